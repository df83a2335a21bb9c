import { describe, expect, it } from 'vitest';
import { parseWeightSetting } from '../../functions/scheduler/metrics.ts';
import type { HostState } from '../../functions/scheduler/request-spec.ts';
import { cpuUtilisationWeigher } from '../../functions/scheduler/weighers/cpu-utilisation.ts';
import { WEIGHERS } from '../../functions/scheduler/weighers/index.ts';
import { ioOpsWeigher } from '../../functions/scheduler/weighers/io-ops.ts';
import { metricsWeigher } from '../../functions/scheduler/weighers/metrics.ts';
import { ramWeigher } from '../../functions/scheduler/weighers/ram.ts';
import { type WeigherInPolicy, weighHosts } from '../../functions/scheduler/weighers/weigh.ts';
import { context, facts, host, secondsAgo, spec } from './scheduler-fixtures.ts';

function withCpu(id: number, percent: number, ageSeconds = 5): HostState {
  return host({
    id,
    host: `compute-${id}`,
    metrics: [
      {
        name: 'cpu.percent',
        value: percent,
        timestamp: secondsAgo(ageSeconds).toISOString(),
        source: 'agent',
      },
    ],
  });
}

function ranking(hosts: HostState[], weighers: WeigherInPolicy[], settings = context()): string[] {
  return weighHosts(hosts, spec(), settings, weighers, facts()).map((destination) => destination.host.host);
}

describe('RAMWeigher', () => {
  it('weighs free RAM with the allocation ratio in effect', () => {
    expect(
      ramWeigher.weigh(host({ memory_mb: 4096, memory_mb_used: 1024 }), spec(), context(), facts()),
    ).toBe(4096 * 1.5 - 1024);
    expect(
      ramWeigher.weigh(
        host({ memory_mb: 4096, memory_mb_used: 1024, ram_allocation_ratio: 1 }),
        spec(),
        context(),
        facts(),
      ),
    ).toBe(3072);
  });

  it('spreads with a positive multiplier and stacks with a negative one', () => {
    const hosts = [
      host({ id: 1, host: 'half-full', memory_mb_used: 12288 }),
      host({ id: 2, host: 'empty', memory_mb_used: 0 }),
      host({ id: 3, host: 'nearly-full', memory_mb_used: 22528 }),
    ];
    expect(ranking(hosts, [{ weigher: ramWeigher, multiplier: 1 }])).toEqual([
      'empty',
      'half-full',
      'nearly-full',
    ]);
    expect(ranking(hosts, [{ weigher: ramWeigher, multiplier: -1 }])).toEqual([
      'nearly-full',
      'half-full',
      'empty',
    ]);
  });
});

describe('weight normalisation', () => {
  it('scales each weigher to [0, 1] over the candidates before applying its multiplier', () => {
    const hosts = [withCpu(1, 20), withCpu(2, 60), withCpu(3, 100)];
    const [best, middle, worst] = weighHosts(
      hosts,
      spec(),
      context(),
      [{ weigher: cpuUtilisationWeigher, multiplier: -2 }],
      facts(),
    );
    expect(best?.weights).toEqual({ CPUUtilisationWeigher: -0 });
    expect(middle?.weights).toEqual({ CPUUtilisationWeigher: -1 });
    expect(worst?.weights).toEqual({ CPUUtilisationWeigher: -2 });
  });

  it('makes multipliers comparable whatever the raw units: MB of RAM against CPU percent', () => {
    // compute-1 has 8 GB more free RAM but is 30 points busier; a CPU multiplier twice the RAM one wins.
    const hosts = [
      host({ ...withCpu(1, 70), memory_mb_used: 0 }),
      host({ ...withCpu(2, 40), memory_mb_used: 8192 }),
    ];
    expect(
      ranking(hosts, [
        { weigher: ramWeigher, multiplier: 1 },
        { weigher: cpuUtilisationWeigher, multiplier: -2 },
      ]),
    ).toEqual(['compute-2', 'compute-1']);
    expect(
      ranking(hosts, [
        { weigher: ramWeigher, multiplier: 2 },
        { weigher: cpuUtilisationWeigher, multiplier: -1 },
      ]),
    ).toEqual(['compute-1', 'compute-2']);
  });

  it('sums the contributions and keeps the candidate order between equal weights', () => {
    const hosts = [withCpu(1, 50), withCpu(2, 50), withCpu(3, 50)];
    const ranked = weighHosts(
      hosts,
      spec(),
      context(),
      [
        { weigher: ramWeigher, multiplier: 1 },
        { weigher: cpuUtilisationWeigher, multiplier: -1 },
      ],
      facts(),
    );
    expect(ranked.map((destination) => destination.host.host)).toEqual([
      'compute-1',
      'compute-2',
      'compute-3',
    ]);
    expect(ranked.every((destination) => destination.weight === 0)).toBe(true);
  });
});

describe('CPUUtilisationWeigher and the stale-metrics policy', () => {
  it('reads cpu.percent, and has no value for a host that does not report it', () => {
    expect(cpuUtilisationWeigher.weigh(withCpu(1, 42), spec(), context(), facts())).toBe(42);
    expect(cpuUtilisationWeigher.weigh(host({ metrics: [] }), spec(), context(), facts())).toBeNull();
  });

  it('penalize: a stale reading counts for nothing and ranks the host below every fresh one', () => {
    const settings = context({ metrics_max_age_seconds: 60, metrics_on_stale: 'penalize' });
    const stale = withCpu(1, 5, 61);
    expect(cpuUtilisationWeigher.weigh(stale, spec(), settings, facts())).toBeNull();
    // Even the busiest fresh host beats the idle-looking stale one.
    const hosts = [stale, withCpu(2, 100), withCpu(3, 90)];
    const ranked = weighHosts(
      hosts,
      spec(),
      settings,
      [{ weigher: cpuUtilisationWeigher, multiplier: -1 }],
      facts(),
    );
    expect(ranked.map((destination) => destination.host.host)).toEqual([
      'compute-3',
      'compute-2',
      'compute-1',
    ]);
    expect(ranked[2]?.weight).toBeLessThan(ranked[1]?.weight ?? 0);
  });

  it('use: a stale reading is trusted as it is', () => {
    const settings = context({ metrics_max_age_seconds: 60, metrics_on_stale: 'use' });
    expect(cpuUtilisationWeigher.weigh(withCpu(1, 5, 61), spec(), settings, facts())).toBe(5);
    expect(
      ranking(
        [withCpu(2, 100), withCpu(1, 5, 61)],
        [{ weigher: cpuUtilisationWeigher, multiplier: -1 }],
        settings,
      ),
    ).toEqual(['compute-1', 'compute-2']);
  });

  it('penalize with a positive multiplier still ranks the stale host last', () => {
    const settings = context({ metrics_on_stale: 'penalize' });
    expect(
      ranking(
        [withCpu(1, 5, 120), withCpu(2, 0), withCpu(3, 50)],
        [{ weigher: cpuUtilisationWeigher, multiplier: 1 }],
        settings,
      ),
    ).toEqual(['compute-3', 'compute-2', 'compute-1']);
  });
});

describe('IoOpsWeigher', () => {
  it('counts I/O-heavy operations on the node, zero when there are none', () => {
    const busy = facts({ ioOps: new Map([[1, 3]]) });
    expect(ioOpsWeigher.weigh(host(), spec(), context(), busy)).toBe(3);
    expect(ioOpsWeigher.weigh(host({ id: 2 }), spec(), context(), busy)).toBe(0);
    expect(ioOpsWeigher.needs?.(spec())).toEqual(['io_ops']);
  });
});

describe('MetricsWeigher', () => {
  const fresh = secondsAgo(5).toISOString();
  const reporting = host({
    metrics: [
      { name: 'cpu.frequency', value: 2000, timestamp: fresh, source: 'agent' },
      { name: 'cpu.percent', value: 40, timestamp: fresh, source: 'agent' },
    ],
  });

  it('sums value × ratio over metrics_weight_setting', () => {
    const settings = context({ metrics_weight_setting: 'cpu.frequency=1.0, cpu.percent=-0.5' });
    expect(metricsWeigher.weigh(reporting, spec(), settings, facts())).toBe(2000 - 20);
  });

  it('has no value when a metric is missing, or stale under penalize', () => {
    const settings = context({ metrics_weight_setting: 'cpu.frequency=1, memory.free=1' });
    expect(metricsWeigher.weigh(reporting, spec(), settings, facts())).toBeNull();
    const staleHost = host({
      metrics: [
        { name: 'cpu.frequency', value: 2000, timestamp: secondsAgo(600).toISOString(), source: 'agent' },
      ],
    });
    const frequency = { metrics_weight_setting: 'cpu.frequency=1' };
    expect(metricsWeigher.weigh(staleHost, spec(), context(frequency), facts())).toBeNull();
    expect(
      metricsWeigher.weigh(staleHost, spec(), context({ ...frequency, metrics_on_stale: 'use' }), facts()),
    ).toBe(2000);
  });
});

describe('metrics_weight_setting', () => {
  it('parses name=ratio pairs and refuses anything else', () => {
    expect(parseWeightSetting('cpu.frequency=1.0, cpu.percent = -0.5,')).toEqual([
      ['cpu.frequency', 1],
      ['cpu.percent', -0.5],
    ]);
    expect(parseWeightSetting('')).toEqual([]);
    expect(() => parseWeightSetting('cpu.percent')).toThrow("'cpu.percent' is not a name=ratio pair");
    expect(() => parseWeightSetting('cpu.percent=high')).toThrow();
    expect(() => parseWeightSetting('a=1=2')).toThrow();
  });
});

describe('the weigher list', () => {
  it('names each weigher once; only RAM can pre-order the candidate query', () => {
    const names = WEIGHERS.map((weigher) => weigher.name);
    expect(new Set(names).size).toBe(names.length);
    expect(WEIGHERS.filter((weigher) => weigher.sql !== undefined).map((weigher) => weigher.name)).toEqual([
      'RAMWeigher',
    ]);
  });
});
