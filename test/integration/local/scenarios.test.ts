import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalPlatform } from '../../../local/platform';
import { expectDocumented } from '../../support/openapi';
import { Client, eventually, startTestPlatform } from './platform-support';

// The default topology (4 regions, 2 jurisdictions) running locally, driven over HTTP
// through the edge only. Clients in eu-west-1 and eu-central-1 land on different regions.
let platform: LocalPlatform;
let client: Client;
let admin: string;
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';

beforeAll(async () => {
  platform = await startTestPlatform();
  client = new Client(platform);
  admin = await client.token('eu', 'admin-1', true);
  const created = await client.api(WEST, 'PUT', '/api/products/CUP', {
    token: admin,
    body: { name: 'Cup', priceCents: 900, currency: 'EUR', stock: 20 },
  });
  expect(created.status).toBe(200);
  await eventually(async () => expect((await client.api(CENTRAL, 'GET', '/api/products/CUP')).status).toBe(200));
});

afterAll(async () => {
  await platform?.stop();
});

test('the edge sends each client to the nearest region of its jurisdiction', async () => {
  const token = await client.token('eu', 'router');
  expect((await client.api(WEST, 'GET', '/api/me/cart', { token })).routedTo).toBe(WEST);
  expect((await client.api(CENTRAL, 'GET', '/api/me/cart', { token })).routedTo).toBe(CENTRAL);
  // A client in the US with an EU account still lands in the EU: nearest EU region.
  expect((await client.api('us-east-1', 'GET', '/api/me/cart', { token })).routedTo).toBe(WEST);
  const noRegion = await fetch(`${platform.edgeUrl}/api/health`);
  expect(noRegion.status).toBe(400);
  expect(((await noRegion.json()) as { error: { field: string } }).error.field).toBe('X-Client-Region');
});

test('worked examples between two regions converge once replication catches up', async () => {
  const token = await client.token('eu', 'abhi');
  const west = await client.api(WEST, 'PUT', '/api/me/profile', { token, body: { displayName: 'Abhi' } });
  expect([west.status, west.servedBy]).toEqual([200, WEST]);
  await eventually(async () =>
    expect((await client.api(CENTRAL, 'GET', '/api/me/profile', { token })).body.version).toBe(1),
  );
  const central = await client.api(CENTRAL, 'PUT', '/api/me/profile', { token, body: { displayName: 'Abhishek' } });
  expect([central.servedBy, central.body.version]).toEqual([CENTRAL, 2]);

  await Promise.all([
    client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 1 } }),
    client.api(CENTRAL, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 1 } }),
  ]);
  const fan = (i: number) => client.token('eu', `fan-${i}`);
  await Promise.all(
    [0, 1, 2].map(async (i) => client.api(WEST, 'POST', '/api/products/CUP/likes', { token: await fan(i) })),
  );
  await Promise.all(
    [3, 4].map(async (i) => client.api(CENTRAL, 'POST', '/api/products/CUP/likes', { token: await fan(i) })),
  );

  for (const region of [WEST, CENTRAL]) {
    await eventually(async () => {
      expect((await client.api(region, 'GET', '/api/me/profile', { token })).body).toMatchObject({
        displayName: 'Abhishek',
        version: 2,
      });
      expect((await client.api(region, 'GET', '/api/me/cart', { token })).body.items).toEqual([
        { sku: 'CUP', quantity: 2 },
      ]);
    });
  }
  // Product pages are cached for up to 60 s per region; the likes total converges in the store.
  await eventually(async () => {
    const likes = await client.api(WEST, 'POST', '/api/products/CUP/likes', {
      token: await fan(5),
      headers: { 'Idempotency-Key': 'converged-check' },
    });
    expect(likes.body.likes).toBe(6);
  });
});

test('replication paused, writes in two regions, replication resumed: converged', async () => {
  const token = await client.token('eu', 'paused-user');
  await client.control('POST', '/replication/pause');
  try {
    await client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 2 } });
    await client.api(CENTRAL, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 3 } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await client.api(WEST, 'GET', '/api/me/cart', { token })).body.items).toEqual([
      { sku: 'CUP', quantity: 2 },
    ]);
    expect((await client.api(CENTRAL, 'GET', '/api/me/cart', { token })).body.items).toEqual([
      { sku: 'CUP', quantity: 3 },
    ]);
    expect((await client.control('GET', '/')).replication.eu).toMatchObject({ paused: true });
  } finally {
    await client.control('POST', '/replication/resume');
  }
  for (const region of [WEST, CENTRAL]) {
    await eventually(async () =>
      expect((await client.api(region, 'GET', '/api/me/cart', { token })).body.items).toEqual([
        { sku: 'CUP', quantity: 5 },
      ]),
    );
  }
});

test('a region taken down: its clients go to the next nearest healthy region, no acknowledged write lost', async () => {
  const token = await client.token('eu', 'evacuee');
  const written = await client.api(CENTRAL, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 4 } });
  expect([written.status, written.servedBy]).toEqual([200, CENTRAL]);
  await client.control('POST', `/regions/${CENTRAL}/down`);
  try {
    const downAt = Date.now();
    const rerouted = await eventually(
      async () => {
        const answer = await client.api(CENTRAL, 'GET', '/api/me/cart', { token });
        expect(answer.routedTo).toBe(WEST);
        return answer;
      },
      3000,
      20,
    );
    // Two failed checks 100 ms apart; the rest is slack for a loaded machine.
    expect(Date.now() - downAt).toBeLessThan(1500);
    await eventually(async () =>
      expect((await client.api(CENTRAL, 'GET', '/api/me/cart', { token })).body.items).toEqual([
        { sku: 'CUP', quantity: 4 },
      ]),
    );
    expect(rerouted.status).toBe(200);
    const status = await client.control('GET', '/');
    expect(status.regions[CENTRAL]).toMatchObject({ down: true, healthyAtEdge: false });
  } finally {
    await client.control('POST', `/regions/${CENTRAL}/up`);
  }
  await eventually(async () =>
    expect((await client.api(CENTRAL, 'GET', '/api/me/cart', { token })).routedTo).toBe(CENTRAL),
  );
});

test('strong store stopped: orders 503 with Retry-After, the rest still served; restarted: orders succeed', async () => {
  const token = await client.token('eu', 'shopper');
  await client.control('POST', '/jurisdictions/eu/strong-store/stop');
  try {
    const order = await client.api(CENTRAL, 'POST', '/api/orders', {
      token,
      headers: { 'Idempotency-Key': 'outage-order' },
      body: { lines: [{ sku: 'CUP', quantity: 1 }] },
    });
    expect(order.status).toBe(503);
    expect(order.headers.get('retry-after')).toBe('5');
    expect(order.body.error.code).toBe('STRONG_STORE_UNAVAILABLE');
    expect((await client.api(CENTRAL, 'GET', '/api/products/CUP')).status).toBe(200);
    expect(
      (await client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 1 } })).status,
    ).toBe(200);
    expect((await client.api(CENTRAL, 'POST', '/api/products/CUP/likes', { token })).status).toBe(200);
    // The health route answers from a store probe at most 2 s old.
    await eventually(async () => expect((await client.api(WEST, 'GET', '/api/health')).body.mode).toBe('read-only'));
  } finally {
    await client.control('POST', '/jurisdictions/eu/strong-store/start');
  }
  const retried = await eventually(async () => {
    const answer = await client.api(CENTRAL, 'POST', '/api/orders', {
      token,
      headers: { 'Idempotency-Key': 'outage-order' },
      body: { lines: [{ sku: 'CUP', quantity: 1 }] },
    });
    expect(answer.status).toBe(201);
    return answer;
  });
  expect(retried.body).toMatchObject({ status: 'paid', placedIn: WEST });
  expect(retried.servedBy).toBe(WEST);
});

test('replication stays inside the jurisdiction: EU items exist only in EU replicas', async () => {
  const token = await client.token('eu', 'resident');
  await client.api(WEST, 'PUT', '/api/me/profile', { token, body: { displayName: 'Resident' } });
  await client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'CUP', quantity: 1 } });
  await eventually(async () =>
    expect((await client.api(CENTRAL, 'GET', '/api/me/profile', { token })).body.displayName).toBe('Resident'),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const region of platform.regions) {
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: region.dynamoEndpoint,
        region: region.region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const tables = (await documents.send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables).toEqual([region.tableName]);
    const items = (await documents.send(new ScanCommand({ TableName: region.tableName }))).Items ?? [];
    const residentItems = items.filter((item) => item.pk === 'USER#resident');
    expect(residentItems.length > 0).toBe(region.jurisdiction === 'eu');
  }
});

/** A raw HTTP/1.1 request, for what fetch will not send (Expect, chunked bodies, GET bodies). */
async function raw(method: string, path: string, headers: Record<string, string>, chunks: string[]) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${platform.edgeUrl}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

test('the edge proxies what clients send: chunked bodies, Expect: 100-continue, a GET with a body', async () => {
  const token = await client.token('eu', 'curl-user');
  const auth = { authorization: `Bearer ${token}`, 'x-client-region': WEST, 'content-type': 'application/json' };
  const chunked = await raw('POST', '/api/me/cart/items', { ...auth, 'transfer-encoding': 'chunked' }, [
    '{"sku":"CUP",',
    '"quantity":1}',
  ]);
  expect(chunked.status).toBe(200);
  const expecting = await raw('PUT', '/api/me/profile', { ...auth, expect: '100-continue' }, [
    JSON.stringify({ displayName: 'Curl' }),
  ]);
  expect(expecting.status).toBe(200);
  const getWithBody = await raw('GET', '/api/me/cart', { ...auth, 'content-length': '2' }, ['{}']);
  expect(getWithBody.status).toBe(200);
});

test('the dev controls answer local tools only, not web pages', async () => {
  const fromPage = await fetch(`${platform.controlUrl}/tokens`, {
    method: 'POST',
    headers: { origin: 'https://evil.example' },
    body: JSON.stringify({ jurisdiction: 'eu', sub: 'x', admin: true }),
  });
  expect(fromPage.status).toBe(403);
});

test('an EU-home user lands only in EU regions from anywhere; a non-EU region refuses them untouched', async () => {
  const sub = 'eu-traveller';
  const token = await client.token('eu', sub);
  for (const clientRegion of ['us-east-1', 'ap-southeast-1', 'ap-northeast-1', 'eu-central-1']) {
    const write = await client.api(clientRegion, 'POST', '/api/me/cart/items', {
      token,
      body: { sku: 'CUP', quantity: 1 },
    });
    const read = await client.api(clientRegion, 'GET', '/api/me/cart', { token });
    for (const answer of [write, read]) {
      expect(answer.status).toBe(200);
      expect([WEST, CENTRAL]).toContain(answer.routedTo);
      expect([WEST, CENTRAL]).toContain(answer.servedBy);
    }
  }

  const us = platform.regions.find((r) => r.region === 'us-east-1');
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: us?.dynamoEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  const usItems = async () =>
    ((await documents.send(new ScanCommand({ TableName: us?.tableName }))).Items ?? [])
      .map((item) => `${item.pk}|${item.sk}`)
      .sort();
  const before = await usItems();
  for (const [method, path, body] of [
    ['POST', '/api/me/cart/items', { sku: 'CUP', quantity: 1 }],
    ['PUT', '/api/me/profile', { displayName: 'Should not land here' }],
    ['GET', '/api/me/cart', undefined],
  ] as const) {
    // As CloudFront would deliver it, had anything sent it to the US region: with the proof of origin.
    const direct = await fetch(`${us?.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...platform.originHeaders },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(direct.status).toBe(421);
    const refusal = (await direct.json()) as { error: { code: string; homeJurisdiction: string; message: string } };
    expectDocumented(method, path, direct.status, refusal);
    expect(refusal.error).toMatchObject({ code: 'WRONG_JURISDICTION', homeJurisdiction: 'eu' });
    expect(refusal.error.message).toContain('eu.api.shop.example.com');
  }
  const after = await usItems();
  expect(after).toEqual(before);
  expect(after.filter((key) => key.includes(sub))).toEqual([]);
});
