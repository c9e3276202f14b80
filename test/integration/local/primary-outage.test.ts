import type { LocalPlatform } from '../../../local/platform';
import { type Answer, Client, eventually, startTestPlatform } from './platform-support';

// A jurisdiction's primary region lost, on the whole local platform (real PostgreSQL,
// DynamoDB endpoints, Valkey), driven through the edge as shoppers come. The region takes
// its user pool's issuer with it: a secondary verifies tokens with its own copy of the
// pool's keys, or, with `keyProvisioning: false`, cannot verify any.

/**
 * Load after the edge switched, per scenario; bounded in count and time. 4 s: with each
 * secondary running its own PostgreSQL replica, 2.5 s on a busy 2-core machine once gave
 * exactly the 20 served requests the test needs more than.
 */
const LOAD_AFTER_SWITCH_MS = 4000;
const MAX_REQUESTS = 800;
/** The edge must switch within this (2 checks 100 ms apart, plus slack for a busy machine). */
const SWITCH_BOUND_MS = 3000;
const SHOPPERS = 3;
/** Pause between one shopper's requests. */
const THINK_MS = 40;

type Op = 'product' | 'likes-read' | 'cart-read' | 'like' | 'cart-add' | 'order';
const OPS: readonly Op[] = ['product', 'likes-read', 'cart-read', 'like', 'cart-add', 'order'];
const SIGNED_IN: ReadonlySet<Op> = new Set(['cart-read', 'like', 'cart-add', 'order']);

interface Sample {
  readonly op: Op;
  readonly shopper: number;
  readonly start: number;
  readonly answer: Answer;
}

interface Scenario {
  readonly jurisdiction: string;
  readonly primary: string;
  readonly secondary: string;
}

interface OutageRun {
  readonly samples: Sample[];
  readonly downAt: number;
  /** When the edge had marked the primary unhealthy and its writer check failing. */
  readonly switchedAt: number;
  /** The secondary's `/api/health` during the outage. */
  readonly secondaryHealth: Answer;
  readonly acknowledged: { cartAdds: number[]; likes: number; orders: { id: string; shopper: number }[] };
  readonly tokens: string[];
  readonly sku: string;
}

const GLOBAL: Scenario = { jurisdiction: 'global', primary: 'us-east-1', secondary: 'ap-southeast-1' };
const EU: Scenario = { jurisdiction: 'eu', primary: 'eu-west-1', secondary: 'eu-central-1' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pathOf(op: Op, sku: string): [string, string] {
  if (op === 'product') return ['GET', `/api/products/${sku}`];
  if (op === 'likes-read') return ['GET', `/api/products/${sku}/likes`];
  if (op === 'cart-read') return ['GET', '/api/me/cart'];
  if (op === 'like') return ['POST', `/api/products/${sku}/likes`];
  if (op === 'cart-add') return ['POST', '/api/me/cart/items'];
  return ['POST', '/api/orders'];
}

/**
 * Shoppers signed in before the outage, in the primary's region, before and through a
 * primary-region outage: replication paused meanwhile (a lost region neither sends nor
 * receives), the edge's switch watched through the controls. Leaves the region down.
 */
async function runOutage(client: Client, scenario: Scenario, label: string): Promise<OutageRun> {
  const { jurisdiction, primary, secondary } = scenario;
  const sku = `OUTAGE-${label}`;
  const admin = await client.token(jurisdiction, `admin-${label}`, true);
  const created = await client.api(primary, 'PUT', `/api/products/${sku}`, {
    token: admin,
    body: { name: 'Outage mug', priceCents: 1000, currency: 'EUR', stock: 1000 },
  });
  expect(created.status).toBe(200);
  await eventually(async () => expect((await client.api(secondary, 'GET', `/api/products/${sku}`)).status).toBe(200));

  const tokens = await Promise.all(
    Array.from({ length: SHOPPERS }, (_, i) => client.token(jurisdiction, `${label}-shopper-${i}`)),
  );
  const samples: Sample[] = [];
  const acknowledged = { cartAdds: tokens.map(() => 0), likes: 0, orders: [] as { id: string; shopper: number }[] };
  let seq = 0;
  const send = async (shopper: number, op: Op): Promise<Sample> => {
    const [method, path] = pathOf(op, sku);
    const token = tokens[shopper] as string;
    const start = Date.now();
    const answer = await client.api(primary, method, path, {
      token,
      ...(op === 'cart-add' ? { body: { sku, quantity: 1 } } : {}),
      ...(op === 'order'
        ? { body: { lines: [{ sku, quantity: 1 }] }, headers: { 'Idempotency-Key': `${label}-${shopper}-${++seq}` } }
        : {}),
    });
    const sample = { op, shopper, start, answer };
    samples.push(sample);
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok && op === 'cart-add') acknowledged.cartAdds[shopper] = (acknowledged.cartAdds[shopper] ?? 0) + 1;
    if (ok && op === 'like') acknowledged.likes++;
    if (ok && op === 'order') acknowledged.orders.push({ id: answer.body.id, shopper });
    return sample;
  };

  // Before the outage: every shopper on the primary, every operation succeeds.
  for (let shopper = 0; shopper < SHOPPERS; shopper++) {
    for (const op of OPS) {
      const { answer } = await send(shopper, op);
      expect([op, answer.status, answer.routedTo]).toEqual([op, op === 'order' ? 201 : 200, primary]);
    }
  }

  await client.control('POST', '/replication/pause');
  await client.control('POST', `/regions/${primary}/down`);
  const downAt = Date.now();
  let switchedAt = Number.POSITIVE_INFINITY;
  const watching = (async () => {
    while (Date.now() - downAt < SWITCH_BOUND_MS) {
      const { regions } = await client.control('GET', '/');
      if (!regions[primary].healthyAtEdge && !regions[primary].writerHealthyAtEdge) {
        switchedAt = Date.now();
        return;
      }
      await sleep(20);
    }
  })();
  const loadEnds = () =>
    samples.length >= MAX_REQUESTS ||
    Date.now() > Math.min(switchedAt + LOAD_AFTER_SWITCH_MS, downAt + SWITCH_BOUND_MS + LOAD_AFTER_SWITCH_MS);
  await Promise.all(
    tokens.map(async (_, shopper) => {
      for (let i = shopper; !loadEnds(); i++) {
        await send(shopper, OPS[i % OPS.length] as Op);
        await sleep(THINK_MS);
      }
    }),
  );
  await watching;
  const secondaryHealth = await client.api(secondary, 'GET', '/api/health');
  return { samples, downAt, switchedAt, secondaryHealth, acknowledged, tokens, sku };
}

/** After a failed check, the next scenario must not start with a region down or replication paused. */
async function restore(client: Client, scenario: Scenario): Promise<void> {
  await client.control('POST', `/regions/${scenario.primary}/up`).catch(() => undefined);
  await client.control('POST', '/replication/resume').catch(() => undefined);
}

/** Brings the primary back and checks that nothing acknowledged was lost and the regions agree. */
async function returnAndConverge(client: Client, scenario: Scenario, run: OutageRun): Promise<number> {
  const { primary, secondary } = scenario;
  await client.control('POST', `/regions/${primary}/up`);
  await client.control('POST', '/replication/resume');
  const upAt = Date.now();
  await eventually(async () => {
    const { regions } = await client.control('GET', '/');
    expect([regions[primary].healthyAtEdge, regions[primary].writerHealthyAtEdge]).toEqual([true, true]);
  });
  await eventually(
    async () => {
      for (const region of [primary, secondary]) {
        for (const [shopper, token] of run.tokens.entries()) {
          const cart = await client.api(region, 'GET', '/api/me/cart', { token });
          expect([cart.status, cart.routedTo]).toEqual([200, region]);
          expect(cart.body.items).toEqual([{ sku: run.sku, quantity: run.acknowledged.cartAdds[shopper] }]);
        }
        const likes = await client.api(region, 'GET', `/api/products/${run.sku}/likes`);
        expect(likes.body.likes).toBe(run.acknowledged.likes);
      }
    },
    10_000,
    100,
  );
  const convergedMs = Date.now() - upAt;
  for (const { id, shopper } of run.acknowledged.orders) {
    const order = await client.api(secondary, 'GET', `/api/orders/${id}`, { token: run.tokens[shopper] });
    expect([order.status, order.body.id, order.servedBy]).toEqual([200, id, primary]);
  }
  const after = await client.api(secondary, 'POST', '/api/orders', {
    token: run.tokens[0],
    headers: { 'Idempotency-Key': 'after-the-return' },
    body: { lines: [{ sku: run.sku, quantity: 1 }] },
  });
  expect([after.status, after.servedBy, after.body.placedIn]).toEqual([201, primary, primary]);
  return convergedMs;
}

const kindOf = (s: Sample) =>
  `${s.op} ${s.answer.status}${s.answer.body?.error?.code ? ` ${s.answer.body.error.code}` : ''}`;

function tally(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[kindOf(s)] = (counts[kindOf(s)] ?? 0) + 1;
  return counts;
}

function report(title: string, figures: Record<string, unknown>): void {
  process.stdout.write(`\n${title}\n${JSON.stringify(figures, null, 1)}\n`);
}

describe('keys provisioned in every region (the default)', () => {
  let platform: LocalPlatform;
  let client: Client;

  beforeAll(async () => {
    platform = await startTestPlatform();
    client = new Client(platform);
  }, 60_000);

  afterEach(async () => {
    for (const scenario of [GLOBAL, EU]) await restore(client, scenario);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  test.each([
    ['global', GLOBAL],
    ['eu', EU],
  ])(
    '%s: primary down; its shoppers are served by the secondary, orders 503 read-only, nothing lost',
    async (label, scenario) => {
      const run = await runOutage(client, scenario, label);
      const { primary, secondary } = scenario;
      const during = run.samples.filter((s) => s.start >= run.downAt);
      const afterSwitch = during.filter((s) => s.start >= run.switchedAt);
      const inWindow = during.filter((s) => s.start < run.switchedAt);
      const isOk = (s: Sample) => s.answer.status >= 200 && s.answer.status < 300;

      expect(run.switchedAt - run.downAt).toBeLessThan(SWITCH_BOUND_MS);
      // After the switch: every non-strong request served by the secondary, no error.
      const served = afterSwitch.filter((s) => s.op !== 'order');
      expect(served.length).toBeGreaterThan(20);
      for (const s of served) expect([s.op, s.answer.status, s.answer.servedBy]).toEqual([s.op, 200, secondary]);
      for (const op of ['product', 'likes-read', 'cart-read', 'like', 'cart-add'] as const) {
        expect(served.filter((s) => s.op === op).length).toBeGreaterThan(0);
      }
      // Orders: the documented read-only 503, from the secondary itself, with Retry-After.
      const orders = afterSwitch.filter((s) => s.op === 'order');
      expect(orders.length).toBeGreaterThan(0);
      for (const { answer } of orders) {
        expect([answer.status, answer.servedBy, answer.headers.get('retry-after')]).toEqual([503, secondary, '5']);
        expect(answer.body.error).toMatchObject({ code: 'STRONG_STORE_UNAVAILABLE' });
        expect(answer.body.error.message).toContain('Nothing was written');
      }
      // Product pages still answer, with stock from the region's replica: its last copy,
      // as an Aurora secondary cluster stays readable when its primary region is lost.
      for (const { answer } of served.filter((s) => s.op === 'product')) {
        expect(answer.body.stock).toEqual(expect.any(Number));
      }
      // The secondary's replica answers and is no writer; its copy of the writer's heartbeat
      // ages from the cut, and the region turns read-only once it is 30 s old.
      expect([run.secondaryHealth.status, run.secondaryHealth.routedTo]).toEqual([200, secondary]);
      const strong = run.secondaryHealth.body.checks.strongStore;
      expect([strong.status, strong.writable]).toEqual(['ok', false]);
      expect(run.secondaryHealth.body.mode).toBe(strong.writerHeartbeatAgeMs > 30_000 ? 'read-only' : 'read-write');
      // In the switch window, the only errors are 503s: the lost region's own...
      for (const s of inWindow.filter((sample) => !isOk(sample))) {
        // Or, an order whose writer check had already failed: the read-only answer.
        expect(s.answer.status).toBe(503);
        expect(s.answer.body.message ?? s.answer.body.error?.code).toMatch(
          /^(Service Unavailable|STRONG_STORE_UNAVAILABLE)$/,
        );
      }

      const convergedMs = await returnAndConverge(client, scenario, run);
      report(`${label}: ${primary} down, shoppers moved to ${secondary}`, {
        requestsDuringOutage: during.length,
        switchWindowMs: run.switchedAt - run.downAt,
        requestsInWindow: inWindow.length,
        errorsInWindow: inWindow.filter((s) => !isOk(s)).length,
        requestsAfterSwitch: afterSwitch.length,
        errorsAfterSwitchExcludingOrders: served.filter((s) => !isOk(s)).length,
        ordersAnswered503ReadOnly: orders.length,
        byKindAfterSwitch: tally(afterSwitch),
        acknowledgedWrites: {
          cartAdds: run.acknowledged.cartAdds.reduce((a, b) => a + b, 0),
          likes: run.acknowledged.likes,
          orders: run.acknowledged.orders.length,
        },
        lostAcknowledgedWrites: 0,
        convergedAfterReturnMs: convergedMs,
      });
    },
    60_000,
  );
});

describe('no keys in the regions (keyProvisioning: false)', () => {
  let platform: LocalPlatform;
  let client: Client;

  beforeAll(async () => {
    platform = await startTestPlatform({}, { keyProvisioning: false });
    client = new Client(platform);
  }, 60_000);

  afterEach(async () => {
    for (const scenario of [GLOBAL, EU]) await restore(client, scenario);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  test.each([
    ['global', GLOBAL],
    ['eu', EU],
  ])(
    '%s: primary down; the secondary cannot verify a token: every signed-in request 500',
    async (label, scenario) => {
      const run = await runOutage(client, scenario, `${label}-nokeys`);
      const { secondary } = scenario;
      const afterSwitch = run.samples.filter((s) => s.start >= run.switchedAt);
      const signedIn = afterSwitch.filter((s) => SIGNED_IN.has(s.op));
      expect(signedIn.length).toBeGreaterThan(10);
      for (const s of signedIn) {
        expect([s.op, s.answer.status, s.answer.servedBy]).toEqual([s.op, 500, secondary]);
        expect(s.answer.body).toEqual({ message: 'Internal Server Error' });
      }
      // Public reads need no token, so they still work.
      for (const s of afterSwitch.filter((sample) => !SIGNED_IN.has(sample.op))) expect(s.answer.status).toBe(200);
      // Nor can anyone sign in: the pool is in the lost region.
      await expect(client.token(scenario.jurisdiction, 'late')).rejects.toThrow(/503 .*USER_POOL_DOWN/);
      report(`${label} without regional keys: ${scenario.primary} down`, {
        switchWindowMs: run.switchedAt - run.downAt,
        signedInRequestsAfterSwitch: signedIn.length,
        answered500: signedIn.filter((s) => s.answer.status === 500).length,
        byKindAfterSwitch: tally(afterSwitch),
      });
      // Back: the secondary fetches the keys from the returned issuer, and nothing was lost.
      await returnAndConverge(client, scenario, run);
    },
    60_000,
  );
});
