import { cpuUtilisationWeigher } from './cpu-utilisation.ts';
import { ioOpsWeigher } from './io-ops.ts';
import { metricsWeigher } from './metrics.ts';
import { ramWeigher } from './ram.ts';
import type { HostWeigher } from './weigher.ts';

/** Every weigher a policy may name, listed explicitly. */
export const WEIGHERS: readonly HostWeigher[] = [
  ramWeigher,
  cpuUtilisationWeigher,
  ioOpsWeigher,
  metricsWeigher,
];

export const WEIGHERS_BY_NAME: ReadonlyMap<string, HostWeigher> = new Map(
  WEIGHERS.map((weigher) => [weigher.name, weigher]),
);
