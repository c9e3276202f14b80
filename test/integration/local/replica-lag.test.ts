import type { LocalPlatform } from '../../../local/platform';
import { Client, eventually, startTestPlatform } from './platform-support';

// Each secondary's strong store is a real hot standby of its primary, behind by the replica
// lag: a stock read there right after a write at the primary can be stale; an order, which
// goes to the writer, never is.

const LAG_MS = 4000;
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
let platform: LocalPlatform;
let client: Client;

beforeAll(async () => {
  platform = await startTestPlatform({}, { replicaLagMs: LAG_MS, cacheTtlSeconds: 1 });
  client = new Client(platform);
});

afterAll(async () => {
  await platform?.stop();
});

const stockIn = async (region: string) => (await client.api(region, 'GET', '/api/products/LAMP')).body?.stock;

test('a stock read in the secondary right after a write at the primary is stale; an order is not', async () => {
  const admin = await client.token('eu', 'lag-admin', true);
  const setStock = (stock: number) =>
    client.api(WEST, 'PUT', '/api/products/LAMP', {
      token: admin,
      body: { name: 'Lamp', priceCents: 2000, currency: 'EUR', stock },
    });
  expect((await setStock(10)).status).toBe(200);
  await eventually(async () => expect(await stockIn(CENTRAL)).toBe(10), LAG_MS * 3, 200);

  // Taken before the write is sent: the primary commits after it, the replica applies then.
  const sent = Date.now();
  expect((await setStock(3)).status).toBe(200);
  // Past the secondary's cached page (1 s), well within the lag: its replica has not applied it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(await stockIn(CENTRAL)).toBe(10);
  expect(await stockIn(WEST)).toBe(3);

  // An order from the secondary goes to the writer, which has the new stock.
  const buyer = await client.token('eu', 'lag-buyer');
  const order = await client.api(CENTRAL, 'POST', '/api/orders', {
    token: buyer,
    headers: { 'idempotency-key': 'lag-order-1' },
    body: { lines: [{ sku: 'LAMP', quantity: 4 }] },
  });
  expect(order.status).toBe(409);
  expect(order.body.error.shortages).toEqual([{ sku: 'LAMP', requested: 4, available: 3 }]);

  await eventually(async () => expect(await stockIn(CENTRAL)).toBe(3), LAG_MS * 3, 200);
  expect(Date.now() - sent).toBeGreaterThanOrEqual(LAG_MS);
});
