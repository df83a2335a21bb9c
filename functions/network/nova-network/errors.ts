import { ComputeError } from '../../shared/errors.ts';

// nova-network's own failures, named as Havana's exceptions so that a workflow step that allocates a
// server's addresses fails with a name that says why (the state's Error), and an API call answers with
// Nova's status and body.

/** Every free address of a network is taken (Havana's NoMoreFixedIps). */
export class NoMoreFixedIps extends ComputeError {
  override readonly name = 'NoMoreFixedIps';
  readonly status = 409;
  readonly fault = 'conflictingRequest';

  constructor(readonly networkUuid: string) {
    super(`No fixed IP addresses available for network: ${networkUuid}`);
  }
}

/** A requested fixed IP is held by another server or reserved (Havana's FixedIpAlreadyInUse). */
export class FixedIpAlreadyInUse extends ComputeError {
  override readonly name = 'FixedIpAlreadyInUse';
  readonly status = 409;
  readonly fault = 'conflictingRequest';

  constructor(address: string, networkUuid: string) {
    super(`Fixed IP address ${address} is already in use on network ${networkUuid}.`);
  }
}

/** A requested network or address the project cannot use (Havana's NetworkNotFound / FixedIpInvalid). */
export class InvalidLegacyNetworkRequest extends ComputeError {
  override readonly name = 'InvalidLegacyNetworkRequest';
  readonly status = 400;
  readonly fault = 'badRequest';
}

/** A pool has no unallocated floating IP left (Havana's NoMoreFloatingIps, a 404 in its API). */
export class NoMoreFloatingIps extends ComputeError {
  override readonly name = 'NoMoreFloatingIps';
  readonly status = 404;
  readonly fault = 'itemNotFound';

  constructor(pool: string) {
    super(`No more floating ips in pool ${pool}.`);
  }
}
