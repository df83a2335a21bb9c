import { type ApiResponse, call } from './api.ts';

// Calls to the networking API (/network/v2.0) for the stack tests, and the shapes they read back.

export type Body = Record<string, unknown>;

export interface NeutronErrorBody {
  NeutronError: { type: string; message: string; detail: string };
}

export interface NetworkBody extends Body {
  id: string;
  name: string;
  subnets: string[];
  project_id: string;
}

export interface SubnetBody extends Body {
  id: string;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: Array<{ start: string; end: string }>;
}

export interface PortBody extends Body {
  id: string;
  mac_address: string;
  network_id: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  security_groups: string[];
}

/** A call to `/network/v2.0<path>`. */
export function neutron<T = Body>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  return call<T>(method, `/network/v2.0${path}`, { token, body });
}

/** The NeutronError of a failed call, with its status, for one assertion. */
export function failure(response: ApiResponse<unknown>) {
  const error = (response.body as Partial<NeutronErrorBody>).NeutronError;
  return { status: response.status, type: error?.type, message: error?.message ?? '' };
}

async function created<T>(response: ApiResponse<Record<string, T>>, key: string): Promise<T> {
  if (response.status !== 201) {
    throw new Error(`create ${key} failed: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body[key] as T;
}

export async function createNetwork(token: string, attributes: Body = {}): Promise<NetworkBody> {
  return created(
    await neutron<Record<string, NetworkBody>>('POST', '/networks', token, { network: attributes }),
    'network',
  );
}

export async function createSubnet(token: string, attributes: Body): Promise<SubnetBody> {
  return created(
    await neutron<Record<string, SubnetBody>>('POST', '/subnets', token, {
      subnet: { ip_version: 4, ...attributes },
    }),
    'subnet',
  );
}

export async function createPort(token: string, attributes: Body): Promise<PortBody> {
  return created(
    await neutron<Record<string, PortBody>>('POST', '/ports', token, { port: attributes }),
    'port',
  );
}
