// What the plan reads: the live legacy state and what already exists in the networking service, as
// plain data (functions/network/migration/load.ts fills it from the database), so that the plan itself
// is arithmetic a unit test can run.

export interface LegacyNetwork {
  id: number;
  uuid: string;
  label: string | null;
  cidr: string | null;
  cidr_v6: string | null;
  gateway: string | null;
  dns1: string | null;
  dns2: string | null;
  vlan: number | null;
  dhcp_start: string | null;
  /** NULL: shared by every project (Flat); set: the project's own network (VLAN). */
  project_id: string | null;
  /** FlatManager injected the address into the image instead of serving it by DHCP. */
  injected: boolean;
  multi_host: boolean;
}

/** A fixed IP the plan cares about: one in use (allocated to a VIF or associated) or reserved. */
export interface LegacyFixedIp {
  id: number;
  address: string;
  network_id: number;
  virtual_interface_id: number | null;
  instance_uuid: string | null;
  reserved: boolean;
}

export interface LegacyVif {
  id: number;
  uuid: string;
  /** The MAC address. */
  address: string;
  network_id: number | null;
  instance_uuid: string | null;
}

export interface LegacyFloatingIp {
  id: number;
  address: string;
  fixed_ip_id: number | null;
  /** Set: allocated to that project. */
  project_id: string | null;
  pool: string;
}

export interface LegacyInstance {
  uuid: string;
  project_id: string;
  host: string | null;
  availability_zone: string | null;
  task_state: string | null;
}

export interface LegacySnapshot {
  networks: LegacyNetwork[];
  fixedIps: LegacyFixedIp[];
  vifs: LegacyVif[];
  floatingIps: LegacyFloatingIp[];
  /** The live instances the VIFs name; a VIF whose instance is missing here is stale. */
  instances: Map<string, LegacyInstance>;
  /** Each host of those instances: undefined when its agent can re-plug, else why it cannot. */
  hostProblems: Map<string, string | undefined>;
}

/** What the networking service holds that is not this migration's own. */
export interface NetworkingSnapshot {
  subnets: Array<{ uuid: string; network_uuid: string; cidr: string }>;
  segments: Array<{ network_uuid: string; physical_network: string; segmentation_id: number }>;
  networkUuids: Set<string>;
  /** MAC → the port holding it. */
  macs: Map<string, string>;
  /** Address → the port holding it (on any subnet). */
  addresses: Map<string, string>;
  /** `kind/legacy_id` of legacy objects another migration already carried over → that migration. */
  migratedElsewhere: Map<string, string>;
}
