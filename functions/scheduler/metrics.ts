import type { HostState } from './request-spec.ts';

/** `cpu.frequency=1.0, cpu.percent=-0.5` → [['cpu.frequency', 1], ['cpu.percent', -0.5]]; throws on a bad pair. */
export function parseWeightSetting(setting: string): Array<[string, number]> {
  return setting
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const [name, ratio, ...extra] = pair.split('=').map((part) => part.trim());
      const value = Number(ratio);
      if (!name || ratio === undefined || ratio === '' || extra.length > 0 || !Number.isFinite(value))
        throw new Error(`'${pair}' is not a name=ratio pair`);
      return [name, value];
    });
}

export interface MetricReading {
  value: number;
  stale: boolean;
}

/** The host's latest value of `name`, and whether it is older than `maxAgeSeconds` at `now`. */
export function readMetric(
  host: HostState,
  name: string,
  now: Date,
  maxAgeSeconds: number,
): MetricReading | undefined {
  const metric = host.metrics.find((candidate) => candidate.name === name);
  if (!metric) return undefined;
  const age = (now.getTime() - Date.parse(metric.timestamp)) / 1000;
  return { value: metric.value, stale: !(age <= maxAgeSeconds) };
}
