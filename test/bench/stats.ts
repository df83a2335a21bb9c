export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** How it was measured, printed beside the figure. */
  detail: string;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The `p`th percentile of latency samples in milliseconds, to two decimals, as a figure. */
export function latencyFigure(name: string, samples: number[], p: number, detail: string): Figure {
  return { name, value: round(percentile(samples, p), 2), unit: 'ms', detail };
}
