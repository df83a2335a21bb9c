import { parseWeightSetting, readMetric } from '../metrics.ts';
import type { HostWeigher } from './weigher.ts';

// Nova's MetricsWeigher: Σ value × ratio over the policy's metrics_weight_setting (`name=ratio, ...`).
// A host missing any of them, or with a stale one under `penalize`, has no usable value.
export const metricsWeigher: HostWeigher = {
  name: 'MetricsWeigher',
  description: 'Σ metric × ratio over metrics_weight_setting (name=ratio pairs) from reported metrics.',
  defaultMultiplier: 1,
  weigh(host, _spec, { now, settings }) {
    let total = 0;
    for (const [name, ratio] of parseWeightSetting(settings.metrics_weight_setting)) {
      const reading = readMetric(host, name, now, settings.metrics_max_age_seconds);
      if (!reading || (reading.stale && settings.metrics_on_stale === 'penalize')) return null;
      total += reading.value * ratio;
    }
    return total;
  },
};
