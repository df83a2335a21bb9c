// MAC addresses for ports: Neutron's (and nova-network's) base `fa:16:3e`, a locally administered
// unicast prefix, with three random octets. Uniqueness is the ports table's unique key; a caller that
// hits it draws again (MAC_GENERATION_RETRIES times, as Neutron's mac_generation_retries).
export const MAC_BASE = 'fa:16:3e';
export const MAC_GENERATION_RETRIES = 16;

export function randomMac(random: () => number = Math.random): string {
  const octets = [0, 1, 2].map(() =>
    Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0'),
  );
  return `${MAC_BASE}:${octets.join(':')}`;
}

/** A MAC in canonical form (lower case, colon separated), or undefined when `text` is not a unicast MAC. */
export function canonicalMac(text: string): string | undefined {
  const match =
    /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(
      text,
    );
  if (!match) return undefined;
  const octets = [match[1], match[3], match[4], match[5], match[6], match[7]].map((octet) =>
    (octet ?? '').toLowerCase(),
  );
  // A multicast address (low bit of the first octet) or all zeros cannot name one interface.
  if ((Number.parseInt(octets[0] ?? '0', 16) & 1) === 1 || octets.every((octet) => octet === '00'))
    return undefined;
  return octets.join(':');
}
