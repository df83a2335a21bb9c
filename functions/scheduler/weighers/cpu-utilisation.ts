import { readMetric } from '../metrics.ts';
import type { HostWeigher } from './weigher.ts';

// From the cpu.percent metric agents send with every report. A reading older than the policy's
// metrics_max_age_seconds is stale: under `penalize` the host ranks last, under `use` it counts.
export const cpuUtilisationWeigher: HostWeigher = {
  name: 'CPUUtilisationWeigher',
  description:
    'Reported cpu.percent; the default multiplier (negative) prefers idle hosts. Stale readings follow metrics_on_stale.',
  defaultMultiplier: -1,
  weigh(host, _spec, { now, settings }) {
    const reading = readMetric(host, 'cpu.percent', now, settings.metrics_max_age_seconds);
    if (!reading) return null;
    return reading.stale && settings.metrics_on_stale === 'penalize' ? null : reading.value;
  },
};
