import type { LocalPlatform } from '../../../local/platform';
import { Client, eventually, startTestPlatform } from './platform-support';

// The source design card's examples exactly: one jurisdiction across the US, the EU and
// Asia (no residency pin), region clocks pinned to the card's times; and the application's
// oversell and idempotency checks, now with clients in three regions and strong requests
// forwarded to the primary across the (scaled) ocean.
let platform: LocalPlatform;
let client: Client;
const US = 'us-east-1';
const EU = 'eu-west-1';
const ASIA = 'ap-southeast-1';
const REGIONS = [US, EU, ASIA];

beforeAll(async () => {
  platform = await startTestPlatform({
    jurisdictions: [{ name: 'global', residency: 'none', primaryRegion: US, regions: REGIONS }],
  });
  client = new Client(platform);
  const admin = await client.token('global', 'admin', true);
  for (const [sku, stock] of [
    ['A', 1000],
    ['LAST-30', 30],
    ['KEY', 10],
  ] as const) {
    const put = await client.api(ASIA, 'PUT', `/api/products/${sku}`, {
      token: admin,
      body: { name: sku, priceCents: 250, currency: 'USD', stock },
    });
    // Asia's edge leg stays in Asia; its region forwards the strong write to the US: one crossing.
    expect([put.status, put.servedBy, put.headers.get('x-entry-region')]).toEqual([200, US, ASIA]);
    expect(put.headers.get('x-cross-region-round-trips')).toBe('1');
  }
  for (const region of REGIONS) {
    await eventually(async () => expect((await client.api(region, 'GET', '/api/products/A')).status).toBe(200));
  }
  // A read from Asia of an Asian region's replica crosses nothing.
  expect((await client.api(ASIA, 'GET', '/api/products/A')).headers.get('x-cross-region-round-trips')).toBe('0');
});

afterAll(async () => {
  await platform?.stop();
});

test('profile: US "Abhi" v12 at 10:01:05, EU "Abhishek" v13 at 10:01:07 → "Abhishek" in every region', async () => {
  const token = await client.token('global', 'abhi');
  for (let version = 1; version <= 11; version++) {
    await client.api(US, 'PUT', '/api/me/profile', { token, body: { displayName: `draft ${version}` } });
  }
  await client.control('POST', `/regions/${US}/clock`, { at: '2026-11-26T10:01:05Z' });
  await client.control('POST', `/regions/${EU}/clock`, { at: '2026-11-26T10:01:07Z' });
  try {
    const us = await client.api(US, 'PUT', '/api/me/profile', { token, body: { displayName: 'Abhi' } });
    expect(us.body).toMatchObject({ displayName: 'Abhi', version: 12, updatedAt: '2026-11-26T10:01:05.000Z' });
    await eventually(async () =>
      expect((await client.api(EU, 'GET', '/api/me/profile', { token })).body.version).toBe(12),
    );
    const eu = await client.api(EU, 'PUT', '/api/me/profile', { token, body: { displayName: 'Abhishek' } });
    expect(eu.body).toMatchObject({ displayName: 'Abhishek', version: 13, updatedAt: '2026-11-26T10:01:07.000Z' });
  } finally {
    await client.control('DELETE', `/regions/${US}/clock`);
    await client.control('DELETE', `/regions/${EU}/clock`);
  }
  for (const region of REGIONS) {
    await eventually(async () => {
      const read = await client.api(region, 'GET', '/api/me/profile', { token });
      expect([read.servedBy, read.body.displayName, read.body.version]).toEqual([region, 'Abhishek', 13]);
    });
  }
});

test('cart: US adds A ×1, EU adds A ×1 → quantity 2 everywhere', async () => {
  const token = await client.token('global', 'cart-user');
  await Promise.all(
    [US, EU].map((region) =>
      client.api(region, 'POST', '/api/me/cart/items', { token, body: { sku: 'A', quantity: 1 } }),
    ),
  );
  for (const region of REGIONS) {
    await eventually(async () =>
      expect((await client.api(region, 'GET', '/api/me/cart', { token })).body.items).toEqual([
        { sku: 'A', quantity: 2 },
      ]),
    );
  }
});

test('likes: US +3, Asia +2 → 5 everywhere', async () => {
  const likeFrom = async (region: string, fan: string) =>
    client.api(region, 'POST', '/api/products/A/likes', { token: await client.token('global', fan) });
  await Promise.all([
    ...[0, 1, 2].map((i) => likeFrom(US, `us-fan-${i}`)),
    ...[0, 1].map((i) => likeFrom(ASIA, `asia-fan-${i}`)),
  ]);
  for (const region of REGIONS) {
    // A product page may be served from the region's cache for up to its TTL; a fresh
    // page shows the converged total.
    await eventually(
      async () => {
        const page = await client.api(region, 'GET', '/api/products/A');
        expect(page.body.likes).toBe(5);
      },
      70_000,
      500,
    );
  }
});

test('oversell across regions: 3 regions × 20 concurrent orders for the last 30 units sell exactly 30', async () => {
  const orders = REGIONS.flatMap((region) =>
    Array.from({ length: 20 }, async (_, i) =>
      client.api(region, 'POST', '/api/orders', {
        token: await client.token('global', `buyer-${region}-${i}`),
        headers: { 'Idempotency-Key': `last-${region}-${i}` },
        body: { lines: [{ sku: 'LAST-30', quantity: 1 }] },
      }),
    ),
  );
  const answers = await Promise.all(orders);
  expect(answers.filter((a) => a.status !== 201 && a.status !== 409).map((a) => a.body)).toEqual([]);
  expect(answers.filter((a) => a.status === 201)).toHaveLength(30);
  expect(new Set(answers.map((a) => a.servedBy))).toEqual(new Set([US]));
  expect(new Set(answers.map((a) => a.routedTo))).toEqual(new Set(REGIONS));
  for (const refused of answers.filter((a) => a.status === 409)) {
    expect(refused.body.error.shortages).toEqual([{ sku: 'LAST-30', requested: 1, available: 0 }]);
  }
});

test('idempotency across regions: one key sent from three regions at once is one order', async () => {
  const token = await client.token('global', 'traveller');
  const send = (region: string) =>
    client.api(region, 'POST', '/api/orders', {
      token,
      headers: { 'Idempotency-Key': 'trip-1' },
      body: { lines: [{ sku: 'KEY', quantity: 2 }] },
    });
  const answers = await Promise.all([...REGIONS, ...REGIONS].map(send));
  // Status, error code and serving region of each, so a failure says which refusal it was.
  expect(answers.map((a) => [a.status, a.body?.error?.code, a.servedBy])).toEqual(Array(6).fill([201, undefined, US]));
  for (const answer of answers) expect(answer.body).toEqual(answers[0]?.body);
  const reread = await client.api(ASIA, 'GET', `/api/orders/${answers[0]?.body.id}`, { token });
  expect(reread.body).toEqual(answers[0]?.body);
  const stock = await eventually(async () => {
    const page = await client.api(US, 'GET', '/api/products/KEY');
    expect(page.body.stock).toBe(8);
    return page;
  });
  expect(stock.status).toBe(200);
});
