import { FLOW_NAMES, type FlowName } from '../../../local/bench/flows';
import { BENCH_MODELS, CLIENT_LOCATIONS } from '../../../local/bench/models';
import type { CellResult, ModelResult } from '../../../local/bench/results';
import { type ModelRunOptions, runModel } from '../../../local/bench/run-model';
import { type AnswerCheck, checkLocalToolAnswers } from '../../support/openapi';

// Far above the scaled distances, so a replica that did not lag would show.
const REPLICA_LAG_MS = 400;

describe('a short benchmark run on the local platform', () => {
  const options: ModelRunOptions = {
    label: 'test',
    durationMs: 3000,
    warmupMs: 1000,
    replicationPhaseMs: 2000,
    rates: { 'product page': 2, like: 2, 'add to cart': 2, 'profile update': 2, checkout: 3 },
    distance: { scale: 0.05 },
    replicationDelayMs: 100,
    replicaLagMs: REPLICA_LAG_MS,
    log: () => {},
  };
  const cellOf = (model: ModelResult, location: string, flow: FlowName) =>
    model.cells.find((c) => c.location === location && c.flow === flow) as CellResult;
  let singleRegion: ModelResult;
  let activeActive: ModelResult;
  let answers: AnswerCheck;

  beforeAll(async () => {
    const check = checkLocalToolAnswers();
    try {
      singleRegion = await runModel(BENCH_MODELS['single-region'], { ...options, label: 'single-region' });
      activeActive = await runModel(BENCH_MODELS['active-active'], { ...options, label: 'active-active' });
    } finally {
      answers = check.stop();
    }
  }, 240_000);

  test('every answer the shoppers, the seeding and the probes received is as docs/openapi.json describes', () => {
    expect(answers.undocumented).toEqual([]);
    expect(answers.checked).toBeGreaterThan(500);
  });

  test('every flow answered as the API promises, from every location', () => {
    for (const model of [singleRegion, activeActive]) {
      for (const cell of model.cells) {
        expect({ model: model.label, location: cell.location, flow: cell.flow, errors: cell.errorSamples }).toEqual({
          model: model.label,
          location: cell.location,
          flow: cell.flow,
          errors: [],
        });
        expect(cell.latency.count).toBe(Math.round(3 * options.rates[cell.flow]));
        // Each interval holds its figure; with 6-9 samples none bounds p95 from above.
        const { p50, p95, p50Interval, p95Interval } = cell.latency;
        expect(p50Interval[0]).toBeLessThanOrEqual(p50);
        expect(p50Interval[1]).toBeGreaterThanOrEqual(p50);
        expect(p95Interval[0]).toBeLessThanOrEqual(p95);
        expect(p95Interval[1]).toBeNull();
      }
    }
  });

  test('single-region: every request from outside North America crosses once, a page three times', () => {
    for (const flow of FLOW_NAMES) {
      expect(cellOf(singleRegion, 'us-east-1', flow).tripsPerRequestMax).toBe(0);
      for (const location of ['eu-west-1', 'ap-southeast-1']) {
        expect(cellOf(singleRegion, location, flow)).toMatchObject({ tripsPerRequestMax: 1, tripsPerRequestMean: 1 });
      }
    }
    const asiaPage = cellOf(singleRegion, 'ap-southeast-1', 'product page');
    expect(asiaPage.requests).toBe(3 * asiaPage.latency.count);
    expect(singleRegion.homes).toEqual({ 'us-east-1': 'global', 'eu-west-1': 'global', 'ap-southeast-1': 'global' });
    expect(singleRegion.replication).toEqual([]);
  });

  test('active-active: eventual writes stay in the region; checkout crosses only from a secondary region', () => {
    expect(activeActive.homes).toEqual({ 'us-east-1': 'global', 'eu-west-1': 'eu', 'ap-southeast-1': 'global' });
    for (const location of CLIENT_LOCATIONS) {
      for (const flow of ['product page', 'like', 'add to cart', 'profile update'] as const) {
        expect([flow, cellOf(activeActive, location, flow).tripsPerRequestMax]).toEqual([flow, 0]);
      }
    }
    expect(cellOf(activeActive, 'us-east-1', 'checkout').tripsPerRequestMax).toBe(0);
    expect(cellOf(activeActive, 'eu-west-1', 'checkout').tripsPerRequestMax).toBe(0);
    expect(cellOf(activeActive, 'ap-southeast-1', 'checkout')).toMatchObject({
      tripsPerRequestMax: 1,
      tripsPerRequestMean: 1,
    });
  });

  test('replication is observed both ways between the regions of each jurisdiction', () => {
    expect(activeActive.replication.map((r) => `${r.from}>${r.to}`).sort()).toEqual([
      'ap-southeast-1>us-east-1',
      'eu-central-1>eu-west-1',
      'eu-west-1>eu-central-1',
      'us-east-1>ap-southeast-1',
    ]);
    for (const lag of activeActive.replication) {
      expect([lag.unseen, lag.failedWrites]).toEqual([0, 0]);
      expect(lag.lag.count).toBeGreaterThan(0);
      // Never faster than the replicator's configured delay.
      expect(lag.lag.p50).toBeGreaterThanOrEqual(options.replicationDelayMs);
    }
  });

  test("stock changed at each primary shows in its secondary's replica no sooner than the replica lag", () => {
    expect(singleRegion.stockReplication).toEqual([]);
    expect(activeActive.stockReplication.map((r) => `${r.from}>${r.to}`).sort()).toEqual([
      'eu-west-1>eu-central-1',
      'us-east-1>ap-southeast-1',
    ]);
    for (const lag of activeActive.stockReplication) {
      expect([lag.unseen, lag.failedWrites, lag.injectedLagMs]).toEqual([0, 0, options.replicaLagMs]);
      expect(lag.lag.count).toBeGreaterThan(0);
      // Timed from when the change is sent: the commit comes after, the replica applies it the lag later.
      expect(lag.lag.p50).toBeGreaterThanOrEqual(REPLICA_LAG_MS);
    }
  });

  test('checkout sells out without overselling or charging twice, and retries answer as the first try', () => {
    for (const audit of [...singleRegion.checkout, ...activeActive.checkout]) {
      expect(audit.refusedSoldOut).toBeGreaterThan(0);
      expect(audit).toMatchObject({
        confirmedUnits: audit.initialStock,
        finalStock: 0,
        oversoldUnits: 0,
        stockMismatch: 0,
        duplicateCharges: 0,
        chargesWithoutOrder: 0,
        ordersWithoutCharge: 0,
        retryMismatches: [],
      });
      expect(audit.retriesSent).toBeGreaterThan(0);
      expect(audit.attempts).toBe(audit.confirmedUnits + audit.refusedSoldOut);
    }
  });
});
