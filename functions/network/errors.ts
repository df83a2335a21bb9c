import { ComputeError } from '../shared/errors.ts';

// The networking service's errors. Each carries the exception name Neutron reports as the `type` of
// its error body (`{"NeutronError": {"type", "message", "detail"}}`, written in
// functions/api/middleware/errors.ts), and is also a ComputeError, so that a compute route calling the
// same code (boot with a port, attach an interface) answers with Nova's body and the same status.

type NetworkStatus = 400 | 403 | 404 | 409 | 503;

const NOVA_FAULTS: Record<NetworkStatus, string> = {
  400: 'badRequest',
  403: 'forbidden',
  404: 'itemNotFound',
  409: 'conflictingRequest',
  503: 'serviceUnavailable',
};

export class NetworkError extends ComputeError {
  override readonly name = 'NetworkError';
  readonly fault: string;

  constructor(
    readonly status: NetworkStatus,
    /** Neutron's exception name: `NetworkNotFound`, `IpAddressInUse`, ... */
    readonly neutronType: string,
    message: string,
  ) {
    super(message);
    this.fault = NOVA_FAULTS[status];
  }
}

export const networkNotFound = (id: string) =>
  new NetworkError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
export const subnetNotFound = (id: string) =>
  new NetworkError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);
export const portNotFound = (id: string) =>
  new NetworkError(404, 'PortNotFound', `Port ${id} could not be found.`);
export const securityGroupNotFound = (id: string) =>
  new NetworkError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);

export const ipAddressInUse = (networkId: string, address: string) =>
  new NetworkError(
    409,
    'IpAddressInUse',
    `Unable to complete operation for network ${networkId}. The IP address ${address} is in use.`,
  );
export const ipAddressGenerationFailure = (networkId: string) =>
  new NetworkError(
    409,
    'IpAddressGenerationFailure',
    `No more IP addresses available on network ${networkId}.`,
  );
export const macAddressInUse = (networkId: string, mac: string) =>
  new NetworkError(
    409,
    'MacAddressInUse',
    `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`,
  );
export const invalidIpForSubnet = (address: string) =>
  new NetworkError(
    400,
    'InvalidIpForSubnet',
    `IP address ${address} is not a valid IP for the specified subnet.`,
  );
export const invalidInput = (message: string) =>
  new NetworkError(400, 'InvalidInput', `Invalid input for operation: ${message}`);
export const overQuota = (resource: string) =>
  new NetworkError(409, 'OverQuota', `Quota exceeded for resources: ['${resource}'].`);
