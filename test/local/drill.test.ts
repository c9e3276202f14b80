import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { resolveTopology } from '../../lib/config/topology';
import {
  DrillOptionsError,
  formatDrillTable,
  isSwitchErrorKind,
  missingEventualWrites,
  type RegionDrillOptions,
  type RegionDrillResult,
  runRegionDrill,
} from '../../local/drill';

// The local drill: a region taken down under load from every continent and brought back,
// on the whole local platform (real PostgreSQL, DynamoDB endpoints, Valkey). Each drill
// starts its own platform on free loopback ports and stops it.
const ROOT = path.join(__dirname, '..', '..');
const HEALTH = { healthIntervalMs: 200, healthFailureThreshold: 2 };
const RATE = 2;
/**
 * The platform, its stores' clients and the drill's clients share one Node.js process on
 * a 2-core machine (with other work on it): health checks and requests queue behind each
 * other. This much is allowed on top of what the health checks themselves take.
 */
const SLACK_MS = 4000;
/** The region stays down longer than the failover bound, so a slow failover fails the bound, not the drill. */
const DOWN_MS = 7000;
/**
 * Replication runs in the same busy process, so under this load it lags by seconds rather
 * than the configured 300 ms; the drill waits this long for the regions to agree.
 */
const CONVERGE_TIMEOUT_MS = 20_000;
/** A busy machine starts the platform slowly too: the wall cap leaves room for that. */
const HEALTH_AND_TIMEOUTS = { ...HEALTH, convergeTimeoutMs: CONVERGE_TIMEOUT_MS, maxWallMs: 100_000 };

/** The figures on the test output (jest keeps stdout; console may be buffered or silenced). */
function show(title: string, result: RegionDrillResult): void {
  process.stdout.write(`\n${title}\n${formatDrillTable(result)}\n${JSON.stringify(result)}\n`);
}

function checkDrill(result: RegionDrillResult, options: RegionDrillOptions, continentsOnRegion: string[]): void {
  const interval = options.healthIntervalMs as number;
  const threshold = options.healthFailureThreshold as number;
  expect(result.stoppedEarly).toBeUndefined();

  // No acknowledged write lost, and there were writes of every kind to lose.
  expect(result.lostAcknowledgedWrites).toBe(0);
  expect(result.writes.lost).toEqual({ likes: 0, cartAdds: 0, orders: 0, total: 0 });
  expect(result.writes.acknowledged.likes).toBeGreaterThan(0);
  expect(result.writes.acknowledged.cartAdds).toBeGreaterThan(0);
  expect(result.writes.acknowledged.orders).toBeGreaterThan(0);
  expect(result.writes.acknowledgedWhileDown.total).toBeGreaterThan(0);

  // The edge needs `threshold` failed checks, the first up to one interval after the down;
  // a client's next request comes at most one period later.
  const detectionMs = (threshold + 1) * interval;
  const periodMs = 1000 / RATE;
  expect(result.failover.edgeMarkedUnhealthyAfterSeconds).not.toBeNull();
  const edgeNoticedMs = (result.failover.edgeMarkedUnhealthyAfterSeconds as number) * 1000;
  expect(edgeNoticedMs).toBeLessThan(detectionMs + SLACK_MS);
  const affected = result.failover.continents.filter((c) => c.clientsOnRegion > 0);
  expect(affected.map((c) => c.continent)).toEqual(continentsOnRegion);
  expect(result.failover.allServedElsewhere).toBe(true);
  for (const continent of affected) {
    expect(continent.servedElsewhereAfterSeconds).not.toBeNull();
    const movedMs = (continent.servedElsewhereAfterSeconds as number) * 1000;
    expect(movedMs).toBeLessThan(detectionMs + periodMs + SLACK_MS);
    // And once the edge knew, each client went elsewhere with its next request: at most the
    // one already on its way to the downed region, a period, and its own round trip later.
    const slowestMs = result.requests.latencyMs.max;
    expect(movedMs).toBeLessThan(edgeNoticedMs + Math.max(periodMs, slowestMs) + slowestMs + 500);
    expect(continent.servedElsewhereBy).not.toContain(result.region);
    expect(continent.servedElsewhereBy.length).toBeGreaterThan(0);
  }

  // Back together after the return.
  expect(result.convergence.converged).toBe(true);
  expect(result.convergence.afterSeconds).not.toBeNull();
  expect(result.convergence.afterSeconds as number).toBeGreaterThanOrEqual(0);
  expect((result.convergence.afterSeconds as number) * 1000).toBeLessThan(CONVERGE_TIMEOUT_MS);

  // Errors: a count, and each one of a kind a switch explains.
  const { errors } = result;
  expect(Number.isInteger(errors.duringSwitch)).toBe(true);
  expect(errors.duringSwitch).toBeGreaterThanOrEqual(0);
  expect(Object.values(errors.byKind).reduce((a, b) => a + b, 0)).toBe(errors.duringSwitch);
  for (const kind of Object.keys(errors.byKind)) {
    expect(kind).toMatch(/^(HTTP 50[234]|connection \S+|timeout)$/);
    expect(isSwitchErrorKind(kind)).toBe(true);
  }
  expect(errors.unexpected).toBe(0);
  expect(errors.beforeDown).toBe(0);
}

describe('the read-back that decides "writes lost"', () => {
  const acks = {
    likes: new Map([
      ['eu-west-1', 3],
      ['eu-central-1', 2],
    ]),
    cart: new Map([['alice|eu-central-1', 2]]),
  };
  const complete = { likes: { 'eu-west-1': 3, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 2 } } };

  test('every replica holding every acknowledged write: nothing lost', () => {
    expect(missingEventualWrites(acks, [complete, complete])).toEqual({ likes: 0, cartAdds: 0 });
  });

  test('one replica short of a like and a cart add: both counted, whichever replica it is', () => {
    const short = { likes: { 'eu-west-1': 2, 'eu-central-1': 2 }, carts: { alice: { 'eu-central-1': 1 } } };
    expect(missingEventualWrites(acks, [complete, short])).toEqual({ likes: 1, cartAdds: 1 });
    expect(missingEventualWrites(acks, [short, complete])).toEqual({ likes: 1, cartAdds: 1 });
  });

  test('a replica that never saw a region or a user counts all of its writes as lost', () => {
    expect(missingEventualWrites(acks, [complete, { likes: {}, carts: {} }])).toEqual({ likes: 5, cartAdds: 2 });
  });

  test('extra writes in a replica do not hide a missing one elsewhere', () => {
    const extra = { likes: { 'eu-west-1': 9, 'eu-central-1': 9 }, carts: { alice: { 'eu-central-1': 9 } } };
    const short = { likes: { 'eu-west-1': 3, 'eu-central-1': 1 }, carts: { alice: { 'eu-central-1': 2 } } };
    expect(missingEventualWrites(acks, [extra, short])).toEqual({ likes: 1, cartAdds: 0 });
  });

  test('no replica read back is an error, not "nothing lost"', () => {
    expect(() => missingEventualWrites(acks, [])).toThrow(/no replica was read back/);
  });
});

test('active-active: a secondary down; its clients move within the health-check bound, strong writes go on, nothing lost', async () => {
  const options: RegionDrillOptions = {
    region: 'eu-central-1',
    model: 'active-active',
    downMs: DOWN_MS,
    clientsPerContinent: 4,
    rate: RATE,
    ...HEALTH_AND_TIMEOUTS,
  };
  const result = await runRegionDrill(options);
  show('active-active, eu-central-1 down', result);
  // EU users in Frankfurt and in Singapore were on it; in the Americas they were on Ireland.
  checkDrill(result, options, ['Europe', 'Asia']);
  expect(result.regionIsPrimary).toBe(false);
  expect(result.failover.continents.flatMap((c) => c.servedElsewhereBy)).toEqual(['eu-west-1', 'eu-west-1']);
  // The primary stayed up: orders were taken while the secondary was down, and kept.
  expect(result.writes.acknowledgedWhileDown.orders).toBeGreaterThan(0);
}, 120_000);

test('active-passive: the primary down; every continent fails over to the standby, nothing lost', async () => {
  const options: RegionDrillOptions = {
    region: 'eu-west-1',
    model: 'active-passive',
    downMs: DOWN_MS,
    clientsPerContinent: 2,
    rate: RATE,
    ...HEALTH_AND_TIMEOUTS,
  };
  const result = await runRegionDrill(options);
  show('active-passive, eu-west-1 down', result);
  checkDrill(result, options, ['Americas', 'Europe', 'Asia']);
  expect(result.regionIsPrimary).toBe(true);
  for (const continent of result.failover.continents) expect(continent.servedElsewhereBy).toEqual(['eu-central-1']);
  // With the primary down, EU orders cannot be taken: they fail with 503, a switch error.
  expect(result.errors.byOperation.order ?? 0).toBeGreaterThan(0);
}, 120_000);

const singleRegion = resolveTopology({
  jurisdictions: [{ name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1'] }],
});

test.each<[string, RegionDrillOptions, string, RegExp]>([
  ['an unknown region', { region: 'mars-1' }, 'region', /must be a serving region of the topology \(us-east-1, /],
  ['a region with nowhere to go', { region: 'us-east-1', topology: singleRegion }, 'region', /nowhere to go/],
  ['an unknown model', { model: 'sideways' as never }, 'model', /must be one of active-active, active-passive/],
  ['a down too short to notice', { downMs: 100 }, 'downMs', /must be from 800 to 60000/],
  ['no clients', { clientsPerContinent: 0 }, 'clientsPerContinent', /must be from 1 to 50/],
  ['a rate that is not a number', { rate: 'fast' as never }, 'rate', /must be a number .* got "fast"/],
  ['half a client', { clientsPerContinent: 1.5 }, 'clientsPerContinent', /whole number/],
  ['a wall cap below the drill', { maxWallMs: 10_000, downMs: 9000 }, 'maxWallMs', /warmupMs \+ downMs/],
  ['an unknown option', { bogus: 1 } as never, 'bogus', /is not a drill option/],
])('bad options: %s is refused, naming the field, before anything starts', async (_what, options, field, message) => {
  const started = Date.now();
  const error = await runRegionDrill(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DrillOptionsError);
  expect((error as DrillOptionsError).field).toBe(field);
  expect((error as Error).message).toMatch(new RegExp(`^${field} `));
  expect((error as Error).message).toMatch(message);
  expect(Date.now() - started).toBeLessThan(1000);
});

async function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bin/drill.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

test.each([
  [['--rate', 'abc'], '--rate must be a number, got "abc"'],
  [['--down-ms', '100'], '--down-ms must be from 800 to 60000'],
  [['--region', 'mars-1'], '--region must be a serving region'],
  [['--bogus'], "Unknown option '--bogus'"],
])('the CLI stops on bad flags %j with a message naming the flag', async (args, message) => {
  const { code, stderr } = await cli(args);
  expect(code).toBe(2);
  expect(stderr).toContain(message);
  expect(stderr).toContain('Usage: npm run drill');
});
