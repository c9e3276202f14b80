import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import type { RegionDrillOptions } from '../../../local/drill/options';
import { formatDrillTable, isSwitchErrorKind, type RegionDrillResult } from '../../../local/drill/report';
import { runRegionDrill } from '../../../local/drill/run';
import { type AnswerCheck, checkLocalToolAnswers } from '../../support/openapi';

// The local drill: a region taken down under load from every continent and brought back,
// on the whole local platform (real PostgreSQL, DynamoDB endpoints, Valkey). Each drill
// starts its own platform on free loopback ports and stops it.
const ROOT = path.join(__dirname, '..', '..', '..');
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

/** A drill of `region` under `model`, with this file's down time, rate, health checks and timeouts. */
function drillOptions(
  region: string,
  model: RegionDrillOptions['model'],
  clientsPerContinent: number,
): RegionDrillOptions {
  return { region, model, downMs: DOWN_MS, clientsPerContinent, rate: RATE, ...HEALTH_AND_TIMEOUTS };
}

/** The drill, with every answer its clients receive checked against docs/openapi.json. */
async function documentedDrill(options: RegionDrillOptions): Promise<RegionDrillResult> {
  const answers = checkLocalToolAnswers();
  let check: AnswerCheck | undefined;
  const result = await runRegionDrill(options).finally(() => {
    check = answers.stop();
  });
  expect(check?.undocumented).toEqual([]);
  expect(check?.checked).toBeGreaterThan(100);
  return result;
}

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
    expect(kind).toMatch(/^(HTTP 50[234]|HTTP 503 STRONG_STORE_UNAVAILABLE|connection \S+|timeout)$/);
    expect(isSwitchErrorKind(kind)).toBe(true);
  }
  expect(errors.unexpected).toBe(0);
  expect(errors.beforeDown).toBe(0);
}

test('active-active: a secondary down; its clients move within the health-check bound, strong writes go on, nothing lost', async () => {
  // Tokens of 4 s: the clients refresh them through the drill, as the pools stay up.
  const options = { ...drillOptions('eu-central-1', 'active-active', 4), tokenTtlSeconds: 4 };
  const result = await documentedDrill(options);
  show('active-active, eu-central-1 down', result);
  // EU users in Frankfurt and in Singapore were on it; in the Americas they were on Ireland.
  checkDrill(result, options, ['Europe', 'Asia']);
  expect(result.regionIsPrimary).toBe(false);
  expect(result.failover.continents.flatMap((c) => c.servedElsewhereBy)).toEqual(['eu-west-1', 'eu-west-1']);
  // The primary stayed up: orders were taken while the secondary was down, and kept.
  expect(result.writes.acknowledgedWhileDown.orders).toBeGreaterThan(0);
  // The eu pool stayed up: sign-in worked, tokens were refreshed, none expired in use.
  const { signedIn } = result;
  expect([signedIn.jurisdiction, signedIn.poolDown, signedIn.tokens.lifetimeSeconds]).toEqual(['eu', false, 4]);
  expect(signedIn.signIn).toMatchObject({ refusedWhileDown: false, refused: 0 });
  expect(signedIn.signIn.granted).toBeGreaterThan(0);
  expect(signedIn.strong.succeeded).toBeGreaterThan(0);
  for (const tokens of Object.values(signedIn.tokens.byJurisdiction)) {
    expect(tokens.refreshesWhileDown.granted).toBeGreaterThan(0);
    expect([tokens.expiredWhileDown, tokens.afterExpiry.sent]).toEqual([0, 0]);
  }
}, 120_000);

test('active-passive: the primary down; every continent fails over to the standby, nothing lost', async () => {
  const options = drillOptions('eu-west-1', 'active-passive', 2);
  const result = await documentedDrill(options);
  show('active-passive, eu-west-1 down', result);
  checkDrill(result, options, ['Americas', 'Europe', 'Asia']);
  expect(result.regionIsPrimary).toBe(true);
  for (const continent of result.failover.continents) expect(continent.servedElsewhereBy).toEqual(['eu-central-1']);
  // With the primary down, EU orders cannot be taken: they fail with 503, a switch error.
  expect(result.errors.byOperation.order ?? 0).toBeGreaterThan(0);
  // Signed-in EU shoppers (tokens of 1 hour): eventual operations served once the edge
  // switched; orders the documented read-only 503 with Retry-After; no sign-in.
  const { signedIn } = result;
  expect([signedIn.jurisdiction, signedIn.poolRegion, signedIn.poolDown]).toEqual(['eu', 'eu-west-1', true]);
  expect(signedIn.eventual.sent).toBeGreaterThan(0);
  expect(signedIn.eventual.succeeded).toBeGreaterThan(0);
  expect(signedIn.eventual.failedAfterSwitch).toBe(0);
  expect(signedIn.strong.sent).toBeGreaterThan(0);
  expect(signedIn.strong.succeeded).toBe(0);
  const readOnly = signedIn.strong.byCode.STRONG_STORE_UNAVAILABLE ?? 0;
  expect(readOnly).toBeGreaterThan(0);
  expect(signedIn.strong.answered503WithRetryAfter).toBeGreaterThanOrEqual(readOnly);
  for (const kind of Object.keys(signedIn.strong.byKind)) expect(isSwitchErrorKind(kind)).toBe(true);
  expect(signedIn.signIn.refusedWhileDown).toBe(true);
  expect(Object.keys(signedIn.signIn.byCode)).toEqual(['USER_POOL_DOWN']);
  expect(signedIn.tokens.byJurisdiction.eu).toMatchObject({ poolDown: true, expiredWhileDown: 0 });
}, 120_000);

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
  [['--token-ttl', '1'], '--token-ttl must be from 2 to 86400 (s)'],
  [['--bogus'], "Unknown option '--bogus'"],
])('the CLI stops on bad flags %j with a message naming the flag', async (args, message) => {
  const { code, stderr } = await cli(args);
  expect(code).toBe(2);
  expect(stderr).toContain(message);
  expect(stderr).toContain('Usage: npm run drill');
});
