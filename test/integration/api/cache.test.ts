import { Valkey } from 'iovalkey';
import { ProductCache, productCacheKey } from '../../../lambda/cache/product-cache';
import { createProductsApi } from '../../../lambda/products/products-api';
import { type Engines, LocalJurisdiction, startEngines } from '../../support/local-jurisdiction';

// The product page is served cache-aside from the region's Valkey; writes invalidate it.
let engines: Engines;
let eu: LocalJurisdiction;
const ADMIN = { sub: 'admin-1', groups: ['admin'] };
const BODY = { name: 'Linen apron', priceCents: 2500, currency: 'EUR', stock: 7 };

beforeAll(async () => {
  engines = await startEngines();
  eu = await LocalJurisdiction.create(engines, { name: 'eu', regions: ['eu-west-1', 'eu-central-1'] });
  expect((await eu.request('eu-west-1', 'PUT', '/api/products/APRON', { user: ADMIN, body: BODY })).status).toBe(200);
  await eu.replicate();
});

afterAll(async () => {
  await eu?.close();
  await engines?.close();
});

test('a second read is a cache hit, and a read after a write in the same region sees the write', async () => {
  const first = await eu.request('eu-west-1', 'GET', '/api/products/APRON');
  expect(first.headers['x-cache']).toBe('miss');
  const second = await eu.request('eu-west-1', 'GET', '/api/products/APRON');
  expect(second.headers['x-cache']).toBe('hit');
  expect(second.body).toEqual(first.body);
  expect(first.body).toEqual({ sku: 'APRON', ...BODY, likes: 0 });

  const repriced = { ...BODY, priceCents: 1999, stock: 3 };
  expect((await eu.request('eu-west-1', 'PUT', '/api/products/APRON', { user: ADMIN, body: repriced })).status).toBe(
    200,
  );
  const afterWrite = await eu.request('eu-west-1', 'GET', '/api/products/APRON');
  expect(afterWrite.body).toMatchObject({ priceCents: 1999, stock: 3 });

  await eu.request('eu-west-1', 'GET', '/api/products/APRON');
  expect((await eu.request('eu-west-1', 'POST', '/api/products/APRON/likes', { user: { sub: 'fan' } })).status).toBe(
    200,
  );
  expect((await eu.request('eu-west-1', 'GET', '/api/products/APRON')).body.likes).toBe(1);

  await eu.request('eu-west-1', 'GET', '/api/products/APRON');
  const order = await eu.request('eu-west-1', 'POST', '/api/orders', {
    user: { sub: 'buyer' },
    headers: { 'Idempotency-Key': 'apron-1' },
    body: { lines: [{ sku: 'APRON', quantity: 2 }] },
  });
  expect(order.status).toBe(201);
  expect((await eu.request('eu-west-1', 'GET', '/api/products/APRON')).body.stock).toBe(1);
});

test('each region has its own cache entry, which expires after the TTL', async () => {
  const valkey = new Valkey({ host: engines.valkey.host, port: engines.valkey.port });
  try {
    await valkey.flushall();
    await eu.request('eu-central-1', 'GET', '/api/products/APRON');
    const key = productCacheKey('eu', 'APRON');
    expect(await valkey.exists(`eu-central-1:${key}`)).toBe(1);
    expect(await valkey.exists(`eu-west-1:${key}`)).toBe(0);
    const ttl = await valkey.ttl(`eu-central-1:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  } finally {
    valkey.disconnect();
  }
});

test.each([
  ['a single node', false],
  ['a serverless (cluster-protocol) cache', true],
])('%s that does not answer never fails or stalls a read: the store answers', async (_kind, serverless) => {
  const region = eu.region('eu-west-1');
  const deadCache = ProductCache.connect({ host: '127.0.0.1', port: 1, serverless, commandTimeoutMs: 100 });
  const products = createProductsApi({ ...region, cache: deadCache });
  try {
    const answered = products({
      routeKey: 'GET /api/products/{sku}',
      pathParameters: { sku: 'APRON' },
      headers: {},
      requestContext: {},
    } as never);
    const stalled = new Promise((resolve) => setTimeout(() => resolve('stalled'), 3000).unref());
    const answer = await Promise.race([answered, stalled]);
    expect(answer).not.toBe('stalled');
    const response = answer as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ sku: 'APRON', name: 'Linen apron' });
    await expect(deadCache.probe()).rejects.toThrow('The regional cache did not answer');
  } finally {
    await deadCache.close();
  }
});

test("the page's likes call answers from the cached page, and a like in the region drops it", async () => {
  await eu.request('eu-west-1', 'PUT', '/api/products/MUG', { user: ADMIN, body: { ...BODY, name: 'Mug' } });
  const uncached = await eu.request('eu-west-1', 'GET', '/api/products/MUG/likes');
  expect(uncached).toMatchObject({ status: 200, body: { sku: 'MUG', likes: 0 } });
  expect(uncached.headers['x-cache']).toBe('miss');

  await eu.request('eu-west-1', 'GET', '/api/products/MUG');
  const cached = await eu.request('eu-west-1', 'GET', '/api/products/MUG/likes');
  expect(cached.headers['x-cache']).toBe('hit');
  expect(cached.body).toEqual({ sku: 'MUG', likes: 0 });

  await eu.request('eu-west-1', 'POST', '/api/products/MUG/likes', { user: { sub: 'fan-2' } });
  const afterLike = await eu.request('eu-west-1', 'GET', '/api/products/MUG/likes');
  expect(afterLike.headers['x-cache']).toBe('miss');
  expect(afterLike.body).toEqual({ sku: 'MUG', likes: 1 });

  expect(await eu.request('eu-west-1', 'GET', '/api/products/NOPE/likes')).toMatchObject({
    status: 404,
    body: { error: { code: 'PRODUCT_NOT_FOUND', field: 'sku' } },
  });
});
