import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { percentileIntervalRanks } from './percentile-interval';
import type { Interval, LatencySummary } from './results';

/** Latencies in microseconds, HdrHistogram (Node's own) with 3 significant figures. */
export function newHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 });
}

export function record(histogram: RecordableHistogram, ms: number): void {
  histogram.record(Math.max(1, Math.round(ms * 1000)));
}

export function summarize(histogram: RecordableHistogram): LatencySummary {
  const ms = (us: number) => Math.round(us / 10) / 100;
  const n = histogram.count;
  if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, p50Interval: [0, null], p95Interval: [0, null] };
  // The k-th smallest sample: HdrHistogram counts ranks as round(percentile / 100 × n).
  const sample = (rank: number) => ms(histogram.percentile((100 * rank) / n));
  const interval = (q: number): Interval => {
    const { lower, upper } = percentileIntervalRanks(n, q);
    return [sample(lower), upper > n ? null : sample(upper)];
  };
  return {
    count: n,
    p50: ms(histogram.percentile(50)),
    p95: ms(histogram.percentile(95)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    p50Interval: interval(0.5),
    p95Interval: interval(0.95),
  };
}
