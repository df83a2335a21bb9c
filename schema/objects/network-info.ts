import * as v from 'valibot';

// A server's network as its host plugs it and its API view shows it (Nova's network_info model,
// trimmed to what we use): one entry per virtual interface. The same shape is the instance network
// cache (schema/tables/instance-network.ts) and Instance.network_info (schema/objects/instance.ts), so
// the agent plugs exactly what the API shows.

const IpVersion = v.picklist([4, 6]);

export const FloatingAddress = v.object({ address: v.string(), type: v.literal('floating') });

export const FixedAddress = v.object({
  address: v.string(),
  type: v.literal('fixed'),
  version: IpVersion,
  floating_ips: v.array(FloatingAddress),
});

export const VifSubnet = v.object({
  cidr: v.string(),
  version: IpVersion,
  gateway: v.nullable(v.string()),
  dns: v.array(v.string()),
  routes: v.array(v.object({ destination: v.string(), nexthop: v.string() })),
  ips: v.array(FixedAddress),
});

export const VifNetwork = v.object({
  id: v.string(),
  /** The network's name: the key of the server view's `addresses`. */
  label: v.string(),
  /** The Linux bridge a nova-network guest is plugged into; NULL for the networking service's ports. */
  bridge: v.nullable(v.string()),
  vlan: v.nullable(v.number()),
  mtu: v.nullable(v.number()),
  subnets: v.array(VifSubnet),
});

export const Vif = v.object({
  /** The port's uuid (networking service) or the virtual interface's uuid (nova-network). */
  id: v.string(),
  /** The MAC address the guest sees. */
  address: v.string(),
  /** The host-side device name (`tap` and the first 11 characters of the id). */
  devname: v.string(),
  /** `bridge` once bound; `unbound` before. */
  type: v.string(),
  active: v.boolean(),
  /** A port the user made and passed in: deleting the server unbinds it but keeps it. */
  preserve_on_delete: v.boolean(),
  network: VifNetwork,
});
export type Vif = v.InferOutput<typeof Vif>;

export const NetworkInfo = v.array(Vif);
export type NetworkInfo = v.InferOutput<typeof NetworkInfo>;
