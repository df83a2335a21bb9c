import { parseWeightSetting, readMetric } from '../metrics.ts';
import type { HostFilter } from './filter.ts';

/** The metrics this policy weighs: cpu.percent (CPU utilisation) and every name of metrics_weight_setting. */
function weighedMetrics(setting: string): string[] {
  return [...new Set(['cpu.percent', ...parseWeightSetting(setting).map(([name]) => name)])];
}

// Pairs with the metric weighers: a policy that must not guess keeps only hosts with fresh readings.
export const metricsFilter: HostFilter = {
  name: 'MetricsFilter',
  description:
    'The host reported every weighed metric (cpu.percent and metrics_weight_setting) within metrics_max_age_seconds.',
  hints: [],
  passes(host, _spec, { now, settings }) {
    for (const name of weighedMetrics(settings.metrics_weight_setting)) {
      const reading = readMetric(host, name, now, settings.metrics_max_age_seconds);
      if (!reading) return `the host reports no ${name}`;
      if (reading.stale) return `the host's ${name} is older than ${settings.metrics_max_age_seconds} s`;
    }
    return null;
  },
};
