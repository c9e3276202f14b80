import { Client } from 'pg';
import { createOrdersApi } from '../../../lambda/orders/orders-api';
import { UnconfiguredCardProcessor } from '../../../lambda/payments/card-processor';
import { WRITER_HEALTH_MATCH, WRITER_HEALTH_PATH } from '../../../lambda/shared/api-contract';
import { localIssuerOf } from '../../../local/dev-tokens';
import { type Engines, LocalJurisdiction, startEngines } from '../../support/local-jurisdiction';
import { eventually } from '../local/platform-support';

// Inventory and exactly-once ordering against real PostgreSQL. Three regions of one
// jurisdiction take orders; strong routes are served by the primary, as deployed.
let engines: Engines;
let shop: LocalJurisdiction;
const REGIONS = ['us-east-1', 'ap-southeast-1', 'us-west-2'];
const ADMIN = { sub: 'admin-1', groups: ['admin'] };

async function setProduct(sku: string, stock: number, priceCents = 500) {
  const answer = await shop.request('ap-southeast-1', 'PUT', `/api/products/${sku}`, {
    user: ADMIN,
    body: { name: sku, priceCents, currency: 'USD', stock },
  });
  expect(answer.status).toBe(200);
  expect(answer.answeredBy).toBe('us-east-1');
  await shop.replicate();
}

async function sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({
    host: engines.postgres.host,
    port: engines.postgres.port,
    user: engines.postgres.user,
    password: engines.postgres.password,
    database: 'commerce_global',
  });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The one row a query must return: a missing row fails the test with the query that found none. */
async function sqlRow<T>(text: string, values: unknown[] = []): Promise<T> {
  const rows = await sql<T>(text, values);
  const [row] = rows;
  if (row === undefined || rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${text}`);
  return row;
}

/** Stock left for a SKU in the global database. */
async function stockOf(sku: string): Promise<number> {
  return (await sqlRow<{ quantity: number }>('SELECT quantity FROM inventory WHERE sku = $1', [sku])).quantity;
}

beforeAll(async () => {
  engines = await startEngines();
  shop = await LocalJurisdiction.create(engines, { name: 'global', regions: REGIONS, maxConnections: 20 });
});

afterAll(async () => {
  await shop?.close();
  await engines?.close();
});

test('3 regions × 100 concurrent orders against stock 100 sell exactly 100, oversell none, refuse with 409', async () => {
  await setProduct('MUG-100', 100);
  const orders = REGIONS.flatMap((region) =>
    Array.from({ length: 100 }, (_, i) =>
      shop.request(region, 'POST', '/api/orders', {
        user: { sub: `buyer-${region}-${i}` },
        headers: { 'Idempotency-Key': `order-${region}-${i}` },
        body: { lines: [{ sku: 'MUG-100', quantity: 1 }] },
      }),
    ),
  );
  const answers = await Promise.all(orders);
  const statuses = answers.map((a) => a.status);
  expect(answers.filter((a) => a.status !== 201 && a.status !== 409).map((a) => a.body)).toEqual([]);
  expect(statuses.filter((s) => s === 201)).toHaveLength(100);
  expect(statuses.filter((s) => s === 409)).toHaveLength(200);
  expect(new Set(answers.map((a) => a.answeredBy))).toEqual(new Set(['us-east-1']));
  for (const refused of answers.filter((a) => a.status === 409)) {
    expect(refused.body.error).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      field: 'lines',
      shortages: [{ sku: 'MUG-100', requested: 1, available: 0 }],
    });
  }
  expect(await stockOf('MUG-100')).toBe(0);
  const { sold } = await sqlRow<{ sold: string }>(
    "SELECT coalesce(sum((line->>'quantity')::int), 0) AS sold FROM orders, jsonb_array_elements(lines) line WHERE line->>'sku' = 'MUG-100'",
  );
  expect(Number(sold)).toBe(100);
  expect(shop.payments.charges.filter((c) => c.amountCents === 500)).toHaveLength(100);
  expect((await shop.request('us-west-2', 'GET', '/api/products/MUG-100')).body).toMatchObject({ stock: 0 });
});

test('a refusal names every short SKU and writes nothing', async () => {
  await setProduct('SHORT-A', 1);
  await setProduct('SHORT-B', 0);
  await setProduct('PLENTY', 50);
  const capturesBefore = shop.payments.captures.length;
  const answer = await shop.request('us-west-2', 'POST', '/api/orders', {
    user: { sub: 'buyer-short' },
    headers: { 'Idempotency-Key': 'short-1' },
    body: {
      lines: [
        { sku: 'SHORT-A', quantity: 2 },
        { sku: 'PLENTY', quantity: 1 },
        { sku: 'SHORT-B', quantity: 1 },
      ],
    },
  });
  expect(answer.status).toBe(409);
  expect(answer.body.error.shortages).toEqual([
    { sku: 'SHORT-A', requested: 2, available: 1 },
    { sku: 'SHORT-B', requested: 1, available: 0 },
  ]);
  expect(answer.body.error.message).toContain('SHORT-A');
  expect(answer.body.error.message).toContain('SHORT-B');
  expect(shop.payments.captures.length).toBe(capturesBefore);
  const stock = await sql<{ sku: string; quantity: number }>(
    "SELECT sku, quantity FROM inventory WHERE sku IN ('SHORT-A', 'SHORT-B', 'PLENTY') ORDER BY sku",
  );
  expect(stock).toEqual([
    { sku: 'PLENTY', quantity: 50 },
    { sku: 'SHORT-A', quantity: 1 },
    { sku: 'SHORT-B', quantity: 0 },
  ]);
});

test('the same key 5 times concurrently and 5 times in sequence: one order, one capture, identical responses', async () => {
  await setProduct('KETTLE', 10, 4200);
  const call = () =>
    shop.request('ap-southeast-1', 'POST', '/api/orders', {
      user: { sub: 'buyer-retry' },
      headers: { 'Idempotency-Key': 'checkout-7f3a' },
      body: { lines: [{ sku: 'KETTLE', quantity: 2 }] },
    });
  const concurrent = await Promise.all(Array.from({ length: 5 }, call));
  const sequential = [];
  for (let i = 0; i < 5; i++) sequential.push(await call());
  const all = [...concurrent, ...sequential];
  expect(all.map((a) => a.status)).toEqual(Array(10).fill(201));
  for (const answer of all) expect(answer.body).toEqual(all[0]?.body);
  expect(all[0]?.body).toMatchObject({ status: 'paid', totalCents: 8400, currency: 'USD', placedIn: 'us-east-1' });
  const charges = shop.payments.charges.filter((c) => c.customerId === 'buyer-retry');
  expect(charges).toHaveLength(1);
  expect(await sql("SELECT id FROM orders WHERE user_id = 'buyer-retry'")).toHaveLength(1);
  expect(
    await sql('SELECT capture_id FROM payment_ledger WHERE capture_id = $1', [charges[0]?.captureId]),
  ).toHaveLength(1);
  expect(await stockOf('KETTLE')).toBe(8);

  const order = await shop.request('us-west-2', 'GET', `/api/orders/${all[0]?.body.id}`, {
    user: { sub: 'buyer-retry' },
  });
  expect(order.status).toBe(200);
  expect(order.body).toEqual(all[0]?.body);
  const stranger = await shop.request('us-east-1', 'GET', `/api/orders/${all[0]?.body.id}`, {
    user: { sub: 'someone-else' },
  });
  expect(stranger.status).toBe(404);
});

test('a key reused with a different body is refused with 422 and changes nothing', async () => {
  await setProduct('TEAPOT', 10);
  const user = { sub: 'buyer-reuse' };
  const headers = { 'Idempotency-Key': 'reuse-1' };
  const first = await shop.request('us-east-1', 'POST', '/api/orders', {
    user,
    headers,
    body: { lines: [{ sku: 'TEAPOT', quantity: 1 }] },
  });
  expect(first.status).toBe(201);
  const reused = await shop.request('us-east-1', 'POST', '/api/orders', {
    user,
    headers,
    body: { lines: [{ sku: 'TEAPOT', quantity: 3 }] },
  });
  expect(reused.status).toBe(422);
  expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
  expect(await stockOf('TEAPOT')).toBe(9);
  // The same key is another user's own key: no clash across users.
  const other = await shop.request('us-east-1', 'POST', '/api/orders', {
    user: { sub: 'buyer-other' },
    headers,
    body: { lines: [{ sku: 'TEAPOT', quantity: 3 }] },
  });
  expect(other.status).toBe(201);
});

test('a refusal is replayed too: the first answer stands even after restocking', async () => {
  await setProduct('RESTOCK', 0);
  const call = () =>
    shop.request('us-east-1', 'POST', '/api/orders', {
      user: { sub: 'buyer-restock' },
      headers: { 'Idempotency-Key': 'restock-1' },
      body: { lines: [{ sku: 'RESTOCK', quantity: 1 }] },
    });
  const first = await call();
  expect(first.status).toBe(409);
  await setProduct('RESTOCK', 5);
  const again = await call();
  expect(again.status).toBe(409);
  expect(again.body).toEqual(first.body);
});

test('strong store stopped: 503 with Retry-After, read-only health, everything else works; restarted: it recovers, no order lost', async () => {
  await setProduct('OUTAGE', 10);
  const buyer = { sub: 'buyer-outage' };
  const placed = await shop.request('us-east-1', 'POST', '/api/orders', {
    user: buyer,
    headers: { 'Idempotency-Key': 'before-outage' },
    body: { lines: [{ sku: 'OUTAGE', quantity: 1 }] },
  });
  expect(placed.status).toBe(201);
  const capturesBefore = shop.payments.captures.length;

  await engines.postgres.stop();
  try {
    const refused = await shop.request('ap-southeast-1', 'POST', '/api/orders', {
      user: buyer,
      headers: { 'Idempotency-Key': 'during-outage' },
      body: { lines: [{ sku: 'OUTAGE', quantity: 2 }] },
    });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.error.code).toBe('STRONG_STORE_UNAVAILABLE');
    expect(refused.body.error.message).toMatch(/read-only.*global.*retry after 5 seconds/i);
    expect(shop.payments.captures.length).toBe(capturesBefore);

    for (const region of REGIONS) {
      // The health routes answer from a probe at most 2 s old (they are anonymous).
      const health = await eventually(async () => {
        const answer = await shop.request(region, 'GET', '/api/health');
        expect(answer.body).toMatchObject({ mode: 'read-only' });
        return answer;
      });
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ region, jurisdiction: 'global', mode: 'read-only' });
      expect(health.body.checks.strongStore.status).toBe('unavailable');
      expect(health.body.checks.eventualStore.status).toBe('ok');
      // No region can take strong writes, so Route 53 must not send them to any.
      const writer = await eventually(async () => {
        const answer = await shop.request(region, 'GET', WRITER_HEALTH_PATH);
        expect(answer.body).toMatchObject({ writer: false });
        return answer;
      });
      expect(writer.status).toBe(200);
      expect(writer.body).toMatchObject({ region, jurisdiction: 'global', writer: false });
      expect(JSON.stringify(writer.body)).not.toContain(WRITER_HEALTH_MATCH);
    }
    const product = await shop.request('ap-southeast-1', 'GET', '/api/products/OUTAGE');
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({ sku: 'OUTAGE', stock: null });
    const cart = await shop.request('ap-southeast-1', 'POST', '/api/me/cart/items', {
      user: buyer,
      body: { sku: 'OUTAGE', quantity: 2 },
    });
    expect(cart.status).toBe(200);
    const like = await shop.request('us-west-2', 'POST', '/api/products/OUTAGE/likes', { user: buyer });
    expect(like.status).toBe(200);
    const restock = await shop.request('us-east-1', 'PUT', '/api/products/OUTAGE', {
      user: ADMIN,
      body: { name: 'renamed during outage', priceCents: 1, currency: 'USD', stock: 99 },
    });
    expect(restock.status).toBe(503);
    const catalog = await shop.request('us-east-1', 'GET', '/api/products/OUTAGE');
    expect(catalog.body.name).toBe('OUTAGE');
  } finally {
    await engines.postgres.start();
  }

  // Recovers by itself: the same request, retried, goes through once.
  const retried = await shop.request('ap-southeast-1', 'POST', '/api/orders', {
    user: buyer,
    headers: { 'Idempotency-Key': 'during-outage' },
    body: { lines: [{ sku: 'OUTAGE', quantity: 2 }] },
  });
  expect(retried.status).toBe(201);
  const health = await eventually(async () => {
    const answer = await shop.request('us-east-1', 'GET', '/api/health');
    expect(answer.body).toMatchObject({ mode: 'read-write' });
    return answer;
  });
  expect(health.body.checks.strongStore).toMatchObject({ status: 'ok', writable: true });
  const writer = await eventually(async () => {
    const answer = await shop.request('us-east-1', 'GET', WRITER_HEALTH_PATH);
    expect(answer.body).toMatchObject({ writer: true });
    return answer;
  });
  expect(writer.status).toBe(200);
  expect(writer.body).toMatchObject({ region: 'us-east-1', writer: true });
  // What Route 53's string-match check looks for, in the serialised body it reads.
  expect(JSON.stringify(writer.body)).toContain(WRITER_HEALTH_MATCH);
  const earlier = await shop.request('us-east-1', 'GET', `/api/orders/${placed.body.id}`, { user: buyer });
  expect(earlier.body).toEqual(placed.body);
  expect(await sql("SELECT id FROM orders WHERE user_id = 'buyer-outage'")).toHaveLength(2);
  expect(shop.payments.charges.filter((c) => c.customerId === 'buyer-outage')).toHaveLength(2);
  expect(await stockOf('OUTAGE')).toBe(7);
});

test('a card processor that cannot be reached: 503, nothing charged, no stock taken, no key spent', async () => {
  await setProduct('NO-PAY', 3);
  const primary = shop.region('us-east-1');
  const orders = createOrdersApi({ ...primary, payments: new UnconfiguredCardProcessor() });
  const event = {
    routeKey: 'POST /api/orders',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'no-pay-1' },
    body: JSON.stringify({ lines: [{ sku: 'NO-PAY', quantity: 1 }] }),
    requestContext: {
      authorizer: { jwt: { claims: { sub: 'buyer-no-pay', iss: localIssuerOf('global', 'us-east-1') } } },
    },
  };
  const refused = await orders(event as never);
  expect(refused.statusCode).toBe(503);
  expect(refused.headers?.['retry-after']).toBe('5');
  expect(JSON.parse(refused.body as string).error.code).toBe('PAYMENT_UNAVAILABLE');
  expect(await stockOf('NO-PAY')).toBe(3);
  expect(await sql("SELECT 1 FROM order_requests WHERE user_id = 'buyer-no-pay'")).toHaveLength(0);
  // The key was not spent: the same request through a working processor goes through.
  const retried = await shop.request('us-east-1', 'POST', '/api/orders', {
    user: { sub: 'buyer-no-pay' },
    headers: { 'Idempotency-Key': 'no-pay-1' },
    body: { lines: [{ sku: 'NO-PAY', quantity: 1 }] },
  });
  expect(retried.status).toBe(201);
});
