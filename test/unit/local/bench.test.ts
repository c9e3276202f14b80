import { FLOW_NAMES, type FlowName } from '../../../local/bench/flows';
import { BENCH_MODELS, CLIENT_LOCATIONS } from '../../../local/bench/models';
import { type LoopClock, openLoop } from '../../../local/bench/open-loop';
import { percentileIntervalRanks } from '../../../local/bench/percentile-interval';
import { compareRuns, markdownTable, renderMarkdown, renderSvg, targets } from '../../../local/bench/report';
import type { BenchResult, CellResult, ModelResult } from '../../../local/bench/results';
import { auditCharges, type ModelRunOptions, runModel } from '../../../local/bench/run-model';

describe('open loop', () => {
  test('starts each call at its intended time even while earlier calls are still running', async () => {
    // given a virtual clock whose timers fire exactly when due (so the test does not
    // depend on how loaded the machine is), and calls that never finish on their own
    let now = 1000;
    const clock: LoopClock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      nextTurn: async () => {
        now += 0.25;
      },
    };
    const starts: { index: number; intended: number; at: number }[] = [];
    const releases: (() => void)[] = [];
    // when
    const loop = openLoop({
      ratePerSecond: 50,
      durationMs: 200,
      clock,
      run: (index, intended) => {
        starts.push({ index, intended, at: now });
        return new Promise<void>((resolve) => releases.push(resolve));
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    // then: every start happened although nothing has finished (a closed loop would have made one),
    expect(starts.map((start) => start.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // at evenly spaced intended times, never before them and within one turn after
    starts.forEach((start, index) => {
      expect(start.intended).toBe(1000 + index * 20);
      expect(start.at).toBeGreaterThanOrEqual(start.intended);
      expect(start.at - start.intended).toBeLessThanOrEqual(0.25);
    });
    for (const release of releases) release();
    await expect(loop).resolves.toBe(10);
  });

  test('on the real clock, starts are never early and all happen while earlier calls still run', async () => {
    const releases: (() => void)[] = [];
    const lateness: number[] = [];
    const loop = openLoop({
      ratePerSecond: 50,
      durationMs: 200,
      run: (_index, intendedStart) => {
        lateness.push(performance.now() - intendedStart);
        return new Promise<void>((resolve) => releases.push(resolve));
      },
    });
    // However loaded the machine, all ten start before any call is released.
    for (let waited = 0; lateness.length < 10 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lateness).toHaveLength(10);
    for (const late of lateness) expect(late).toBeGreaterThanOrEqual(0);
    for (const release of releases) release();
    await expect(loop).resolves.toBe(10);
  });

  test('refuses a rate or duration that is not above 0', async () => {
    await expect(openLoop({ ratePerSecond: 0, durationMs: 100, run: async () => {} })).rejects.toThrow(
      'ratePerSecond must be above 0',
    );
    await expect(openLoop({ ratePerSecond: 1, durationMs: -1, run: async () => {} })).rejects.toThrow(
      'durationMs must be above 0',
    );
  });
});

test('runModel refuses a phase that is not above 0, naming the run and the field, before starting anything', async () => {
  const valid: ModelRunOptions = {
    label: 'bad phase',
    durationMs: 1000,
    warmupMs: 1000,
    rates: { 'product page': 1, like: 1, 'add to cart': 1, 'profile update': 1, checkout: 1 },
    distance: { enabled: false },
    replicationDelayMs: 0,
    log: () => {},
  };
  await expect(runModel(BENCH_MODELS['active-active'], { ...valid, replicationPhaseMs: 0 })).rejects.toThrow(
    'runModel bad phase: replicationPhaseMs must be above 0, got 0',
  );
  await expect(runModel(BENCH_MODELS['active-active'], { ...valid, warmupMs: -5 })).rejects.toThrow(
    'runModel bad phase: warmupMs must be above 0, got -5',
  );
});

function fakeCell(location: string, flow: FlowName, p50: number, p95 = p50, trips = 0): CellResult {
  return {
    location,
    flow,
    // Intervals ±10 % around the figure; p95's open above, as with few samples.
    latency: {
      count: 60,
      p50,
      p95,
      p99: p95,
      max: p95,
      p50Interval: [Math.round(p50 * 0.9), Math.round(p50 * 1.1)],
      p95Interval: [Math.round(p95 * 0.9), null],
    },
    errors: 0,
    errorSamples: [],
    requests: 10,
    tripsPerRequestMax: trips,
    tripsPerRequestMean: trips,
  };
}

function fakeModel(label: string, model: ModelResult['model'], latencyOf: (location: string) => number): ModelResult {
  return {
    label,
    model,
    description: '',
    regions: [],
    homes: {},
    cells: CLIENT_LOCATIONS.flatMap((l) => FLOW_NAMES.map((f) => fakeCell(l, f, latencyOf(l)))),
    replication: [],
    stockReplication: [],
    checkout: [],
  };
}

function fakeResult(asiaSingleRegionPage: number, activeActive = 20): BenchResult {
  return {
    finishedAt: '2026-11-27T00:00:00Z',
    machine: { cpus: 2, node: '20' },
    settings: {
      durationS: 1,
      warmupS: 1,
      replicationPhaseS: 1,
      ratesPerLocation: { 'product page': 1, like: 1, 'add to cart': 1, 'profile update': 1, checkout: 1 },
      replicationDelayMs: 0,
      distanceScale: 1,
    },
    models: [
      fakeModel('single-region', 'single-region', (l) => (l === 'ap-southeast-1' ? asiaSingleRegionPage : 50)),
      fakeModel('active-active', 'active-active', () => activeActive),
    ],
    overhead: fakeModel('active-active, no injected delay', 'active-active', () => 5),
  };
}

describe('report', () => {
  test("shows each replica's set lag beside the lag its stock reads saw, and says a single region has none", () => {
    // given an active-active run whose EU replica was set 12 ms behind and seen 40 ms behind
    const result = fakeResult(690);
    const activeActive = result.models[1] as ModelResult;
    const lag = {
      count: 9,
      p50: 40,
      p95: 55,
      p99: 55,
      max: 61,
      p50Interval: [30, 50],
      p95Interval: [50, null],
    } as const;
    const models = [
      result.models[0] as ModelResult,
      {
        ...activeActive,
        stockReplication: [
          {
            jurisdiction: 'eu',
            from: 'eu-west-1',
            to: 'eu-central-1',
            lag,
            unseen: 0,
            failedWrites: 1,
            injectedLagMs: 12,
          },
        ],
      },
    ];
    // when
    const markdown = renderMarkdown({ ...result, models });
    // then
    expect(markdown).toMatch(
      /\| active-active +\| eu: eu-west-1 → eu-central-1 +\| 12 +\| 9 +\| 40 +\| 55 +\| 61 +\| 0 +\| 1 +\|/,
    );
    expect(markdown).toMatch(/\| single-region +\| \(one region: no replica\) +\|/);
  });

  test("checks the source card's band and the 100 ms page target, and fails them when missed", () => {
    const band = (r: BenchResult) => targets(r).find((t) => t.target.includes('400-700'));
    expect(band(fakeResult(690))).toMatchObject({ met: true, measured: 'p50 690 ms (p95 690 ms)' });
    expect(band(fakeResult(720))?.met).toBe(false);
    expect(band(fakeResult(390))?.met).toBe(false);
    const pages = (r: BenchResult) => targets(r).filter((t) => t.target.includes('under 100 ms'));
    expect(pages(fakeResult(690, 99)).map((t) => t.met)).toEqual([true, true, true]);
    expect(pages(fakeResult(690, 100)).map((t) => t.met)).toEqual([false, false, false]);
  });

  test('compares two runs figure by figure against the 10 % tolerance', () => {
    const same = compareRuns(fakeResult(690), fakeResult(690));
    expect(same).toMatchObject({ compared: 90, largestDifference: 0, outside: [] });
    const slower = compareRuns(fakeResult(600), fakeResult(690));
    expect(slower.largestDifference).toBeCloseTo(0.15);
    // Only the Asia single-region figures (600 ms before) are at network scale.
    expect(slower.network).toEqual({
      compared: 10,
      largestDifference: expect.closeTo(0.15),
      outsideTolerance: 10,
      beyondChance: 0,
    });
    expect(slower.local).toEqual({ compared: 80, largestDifference: 0, outsideTolerance: 0, beyondChance: 0 });
    expect(slower.outside.map((o) => o.figure)).toContain('single-region / ap-southeast-1 / product page / p50');
    // 600 -> 690: the intervals (540-660, 621-759) overlap, so chance alone can explain it.
    expect(slower.network.beyondChance).toBe(0);
    expect(slower.outside.every((o) => o.withinChance)).toBe(true);
    // 400 -> 690: the p50 intervals (360-440, 621-759) are apart; the open-ended p95 ones still meet.
    const changed = compareRuns(fakeResult(400), fakeResult(690));
    const asiaPage = (p: string) => changed.outside.find((o) => o.figure === `single-region / ap-southeast-1 / ${p}`);
    expect(asiaPage('product page / p50')).toMatchObject({ withinChance: false, beforeInterval: [360, 440] });
    expect(asiaPage('product page / p95')).toMatchObject({ withinChance: true, beforeInterval: [360, null] });
    expect(changed.network).toMatchObject({ outsideTolerance: 10, beyondChance: 5 });
    const markdown = renderMarkdown(fakeResult(690), changed);
    expect(markdown).toContain('10 differ by more than 10.0 %, of which\n5 by more than chance explains');
    expect(markdown).toContain(
      'A p95 of 60 samples is their 57th smallest, and its 95 % interval runs from the 53rd to beyond the largest',
    );
    expect(markdown).toMatch(
      /\| single-region \/ ap-southeast-1 \/ product page \/ p50 +\| 400 +\| 690 +\| 360-440 +\| 621-759 +\| \*\*no\*\* +\|/,
    );
  });

  test('percentile intervals: the classical order-statistic ranks, open above when the samples are too few', () => {
    // The textbook case: the median of 100 samples lies between the 40th and the 61st.
    expect(percentileIntervalRanks(100, 0.5)).toEqual({ lower: 40, upper: 61 });
    // p95 of 60: no sample is large enough to bound it from above at 95 %.
    expect(percentileIntervalRanks(60, 0.95)).toEqual({ lower: 53, upper: 61 });
    expect(percentileIntervalRanks(1000, 0.95)).toEqual({ lower: 936, upper: 964 });
    // Wider intervals at higher confidence.
    const loose = percentileIntervalRanks(1000, 0.95, 0.99);
    expect(loose.lower).toBeLessThan(936);
    expect(loose.upper).toBeGreaterThan(964);
    expect(() => percentileIntervalRanks(0, 0.5)).toThrow('n must be a whole number of 1 or more, got 0');
    expect(() => percentileIntervalRanks(10, 1)).toThrow('q must be between 0 and 1, got 1');
    expect(() => percentileIntervalRanks(10, 0.5, 1.5)).toThrow('confidence must be between 0 and 1, got 1.5');
  });

  test('pads Markdown tables as the formatter does, and draws one bar per model, location and flow', () => {
    expect(markdownTable(['a', 'long header'], [['wide cell', 'x']])).toBe(
      ['| a         | long header |', '| --------- | ----------- |', '| wide cell | x           |'].join('\n'),
    );
    const svg = renderSvg(fakeResult(690));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // The chart's own title, then one per bar.
    expect(svg.match(/<title>/g)).toHaveLength(1 + 2 * CLIENT_LOCATIONS.length * FLOW_NAMES.length);
    expect(svg).toContain('<title>single-region, ap-southeast-1, product page: p95 690 ms</title>');
    const markdown = renderMarkdown(fakeResult(690), compareRuns(fakeResult(690), fakeResult(690)));
    expect(markdown).toMatch(
      /\| single-region +\| Asia \(ap-southeast-1\) +\| 690 +\| 690 +\| 621 or more +\| 690 +\| 0 +\|/,
    );
    expect(markdown).toContain('the largest\ndifference is 0.0 %');
  });
});

test('the charge audit catches a second capture, a stray capture and an order with none', () => {
  const confirmed = new Set(['a', 'b']);
  const kept = (orderId: string) => ({ orderId, voided: false });
  expect(auditCharges([kept('a'), kept('b'), { orderId: 'c', voided: true }], confirmed)).toEqual({
    charges: 2,
    duplicateCharges: 0,
    chargesWithoutOrder: 0,
    ordersWithoutCharge: 0,
  });
  expect(auditCharges([kept('a'), kept('a'), kept('b')], confirmed)).toMatchObject({ duplicateCharges: 1 });
  // A retry placed as a new order: the shopper was told of one, the card paid twice.
  expect(auditCharges([kept('a'), kept('b'), kept('a-again')], confirmed)).toMatchObject({
    duplicateCharges: 1,
    chargesWithoutOrder: 1,
  });
  expect(auditCharges([kept('a')], confirmed)).toMatchObject({ ordersWithoutCharge: 1 });
});
