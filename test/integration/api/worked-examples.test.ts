import { type Engines, LocalJurisdiction, startEngines } from '../../support/local-jurisdiction';

// The design's worked examples (docs/design.md#data-stores-and-merge-rules) over the HTTP
// contract: two regions of one jurisdiction write, then their DynamoDB replicas exchange items the way global tables do.
let engines: Engines;
let eu: LocalJurisdiction;
let global: LocalJurisdiction;
const clocks = new Map<string, Date>();
const clock = (region: string) => clocks.get(region) ?? new Date('2026-11-26T10:00:00Z');

const ADMIN = { sub: 'admin-1', groups: ['admin'] };
const ABHI = { sub: 'user-abhi' };
const PRODUCT = { name: 'Espresso cup', priceCents: 1200, currency: 'EUR', stock: 40 };

beforeAll(async () => {
  engines = await startEngines();
  eu = await LocalJurisdiction.create(engines, { name: 'eu', regions: ['eu-west-1', 'eu-central-1'], clock });
  global = await LocalJurisdiction.create(engines, { name: 'global', regions: ['us-east-1', 'ap-southeast-1'], clock });
  for (const jurisdiction of [eu, global]) {
    const created = await jurisdiction.request(jurisdiction.primaryRegion, 'PUT', '/api/products/CUP-1', {
      user: ADMIN,
      body: PRODUCT,
    });
    expect(created.status).toBe(200);
    await jurisdiction.replicate();
  }
});

afterAll(async () => {
  await eu?.close();
  await global?.close();
  await engines?.close();
});

test('profile: "Abhi" v12 at 10:01:05 and "Abhishek" v13 at 10:01:07 end as "Abhishek" in every region', async () => {
  for (let version = 1; version <= 11; version++) {
    const put = await eu.request('eu-west-1', 'PUT', '/api/me/profile', {
      user: ABHI,
      body: { displayName: `draft ${version}` },
    });
    expect(put.body.version).toBe(version);
  }
  await eu.replicate();
  clocks.set('eu-west-1', new Date('2026-11-26T10:01:05Z'));
  const abhi = await eu.request('eu-west-1', 'PUT', '/api/me/profile', { user: ABHI, body: { displayName: 'Abhi' } });
  expect(abhi.body).toMatchObject({ displayName: 'Abhi', version: 12, updatedAt: '2026-11-26T10:01:05.000Z' });
  await eu.replicate();
  clocks.set('eu-central-1', new Date('2026-11-26T10:01:07Z'));
  const abhishek = await eu.request('eu-central-1', 'PUT', '/api/me/profile', {
    user: ABHI,
    body: { displayName: 'Abhishek' },
  });
  expect(abhishek.body).toMatchObject({ displayName: 'Abhishek', version: 13, updatedIn: 'eu-central-1' });
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    const read = await eu.request(region, 'GET', '/api/me/profile', { user: ABHI });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ displayName: 'Abhishek', version: 13 });
  }
});

test('profile: concurrent writes of one version resolve by timestamp, then region, the same everywhere', async () => {
  const user = { sub: 'user-concurrent' };
  clocks.set('eu-west-1', new Date('2026-11-26T11:00:09Z'));
  clocks.set('eu-central-1', new Date('2026-11-26T11:00:02Z'));
  // Neither region has seen the other's write: both write version 1.
  const [west, central] = await Promise.all([
    eu.request('eu-west-1', 'PUT', '/api/me/profile', { user, body: { displayName: 'later' } }),
    eu.request('eu-central-1', 'PUT', '/api/me/profile', { user, body: { displayName: 'earlier' } }),
  ]);
  expect([west.body.version, central.body.version]).toEqual([1, 1]);
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    expect((await eu.request(region, 'GET', '/api/me/profile', { user })).body.displayName).toBe('later');
  }
  // A higher version wins over a later timestamp.
  clocks.set('eu-central-1', new Date('2026-11-26T11:00:00Z'));
  await eu.request('eu-central-1', 'PUT', '/api/me/profile', { user, body: { displayName: 'v2 early clock' } });
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    expect((await eu.request(region, 'GET', '/api/me/profile', { user })).body).toMatchObject({
      displayName: 'v2 early clock',
      version: 2,
    });
  }
});

test('cart: item A ×1 in each of two regions is quantity 2 in every region', async () => {
  const user = { sub: 'user-cart' };
  const [west, central] = await Promise.all([
    eu.request('eu-west-1', 'POST', '/api/me/cart/items', { user, body: { sku: 'CUP-1', quantity: 1 } }),
    eu.request('eu-central-1', 'POST', '/api/me/cart/items', { user, body: { sku: 'CUP-1', quantity: 1 } }),
  ]);
  expect(west.body.items).toEqual([{ sku: 'CUP-1', quantity: 1 }]);
  expect(central.body.items).toEqual([{ sku: 'CUP-1', quantity: 1 }]);
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    expect((await eu.request(region, 'GET', '/api/me/cart', { user })).body).toEqual({
      items: [{ sku: 'CUP-1', quantity: 2 }],
    });
  }
});

test('cart: a remove does not erase an add it has not seen (add wins)', async () => {
  const user = { sub: 'user-add-wins' };
  await eu.request('eu-west-1', 'POST', '/api/me/cart/items', { user, body: { sku: 'CUP-1', quantity: 2 } });
  await eu.replicate();
  // eu-central-1 removes the 2 it saw while eu-west-1 adds 1 more it has not seen.
  const removed = await eu.request('eu-central-1', 'DELETE', '/api/me/cart/items/CUP-1', { user });
  expect(removed.body.items).toEqual([]);
  await eu.request('eu-west-1', 'POST', '/api/me/cart/items', { user, body: { sku: 'CUP-1', quantity: 1 } });
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    expect((await eu.request(region, 'GET', '/api/me/cart', { user })).body.items).toEqual([
      { sku: 'CUP-1', quantity: 1 },
    ]);
  }
  // A remove that has seen everything empties the line everywhere.
  await eu.request('eu-west-1', 'DELETE', '/api/me/cart/items/CUP-1', { user });
  await eu.replicate();
  for (const region of eu.regions.keys()) {
    expect((await eu.request(region, 'GET', '/api/me/cart', { user })).body.items).toEqual([]);
  }
});

test('likes: US +3 and Asia +2 is 5 in every region', async () => {
  const likes = [
    ...Array.from({ length: 3 }, (_, i) => ['us-east-1', `fan-us-${i}`]),
    ...Array.from({ length: 2 }, (_, i) => ['ap-southeast-1', `fan-ap-${i}`]),
  ];
  const answers = await Promise.all(
    likes.map(([region, sub]) =>
      global.request(region as string, 'POST', '/api/products/CUP-1/likes', { user: { sub: sub as string } }),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  await global.replicate();
  for (const region of global.regions.keys()) {
    const product = await global.request(region, 'GET', '/api/products/CUP-1');
    expect(product.body).toMatchObject({ sku: 'CUP-1', likes: 5, stock: 40 });
  }
});

test('likes: a retried like with the same Idempotency-Key counts once', async () => {
  const user = { sub: 'fan-retry' };
  const before = (await global.request('us-east-1', 'GET', '/api/products/CUP-1')).body.likes;
  const headers = { 'Idempotency-Key': 'like-once-1' };
  const first = await global.request('us-east-1', 'POST', '/api/products/CUP-1/likes', { user, headers });
  const again = await global.request('us-east-1', 'POST', '/api/products/CUP-1/likes', { user, headers });
  expect(first.body.likes).toBe(before + 1);
  expect(again.body).toEqual(first.body);
  expect((await global.request('us-east-1', 'GET', '/api/products/CUP-1')).body.likes).toBe(before + 1);
});
