import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { WRITER_HEALTH_PATH } from '../../../lambda/shared/api-contract';
import type { LocalPlatform, LocalRegionHandle } from '../../../local/platform';
import { expectDocumented } from '../../support/openapi';
import { Client, startTestPlatform } from './platform-support';

// The regional APIs as a client reaches them directly, with requests API Gateway would
// answer differently from a lenient local server: repeated headers, a writer-only route,
// bodies without a media type, wrong types and unknown SKUs.

let platform: LocalPlatform;
let client: Client;
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';

beforeAll(async () => {
  platform = await startTestPlatform();
  client = new Client(platform);
  const admin = await client.token('eu', 'strict-admin', true);
  const created = await client.api(WEST, 'PUT', '/api/products/MUG', {
    token: admin,
    body: { name: 'Mug', priceCents: 500, currency: 'EUR', stock: 10 },
  });
  expect(created.status).toBe(200);
});

afterAll(async () => {
  await platform?.stop();
});

function region(name: string): LocalRegionHandle {
  const handle = platform.regions.find((r) => r.region === name);
  if (!handle) throw new Error(`no region ${name}`);
  return handle;
}

interface Raw {
  readonly status: number;
  readonly body: any;
}

/**
 * A request with exactly these header lines (a name given several values is sent several
 * times), straight to a region's API: with the proof of origin CloudFront adds unless
 * `withProof` is false.
 */
function raw(
  url: string,
  method: string,
  headers: Record<string, string | string[]>,
  body?: string,
  withProof = true,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const sent = withProof ? { ...platform.originHeaders, ...headers } : headers;
    const outgoing = httpRequest(url, { method, headers: sent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const answer = { status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined };
        expectDocumented(method, new URL(url).pathname, answer.status, answer.body);
        resolve(answer);
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The body of a raw HTTP/1.1 answer, its chunked framing (RFC 9112 §7.1) undone. */
function messageBody(message: string): string {
  const end = message.indexOf('\r\n\r\n');
  const [head, rest] = [message.slice(0, end), message.slice(end + 4)];
  if (!/^transfer-encoding: chunked$/im.test(head)) return rest;
  let body = '';
  for (let at = 0; ; ) {
    const lineEnd = rest.indexOf('\r\n', at);
    const size = Number.parseInt(rest.slice(at, lineEnd), 16);
    if (!size) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

const cartOf = async (token: string) =>
  (await client.api(WEST, 'GET', '/api/me/cart', { token })).body as { items: { sku: string; quantity: number }[] };

test("two Authorization headers reach the authorizer joined, as API Gateway joins them: refused, no one's cart written", async () => {
  const [first, second] = [await client.token('eu', 'dup-a'), await client.token('eu', 'dup-b')];
  const answer = await raw(
    `${region(WEST).url}/api/me/cart/items`,
    'POST',
    { authorization: [`Bearer ${first}`, `Bearer ${second}`], 'content-type': 'application/json' },
    JSON.stringify({ sku: 'MUG', quantity: 1 }),
  );
  expect(answer).toEqual({ status: 403, body: { message: 'Forbidden' } });
  expect((await cartOf(first)).items).toEqual([]);
  expect((await cartOf(second)).items).toEqual([]);
});

test.each([[['application/json', 'text/plain']], [['text/plain', 'application/json']]])(
  'two Content-Type headers (%j) are one joined media type no JSON route takes: 415',
  async (types) => {
    const token = await client.token('eu', 'dup-type');
    const answer = await raw(
      `${region(WEST).url}/api/me/cart/items`,
      'POST',
      { authorization: `Bearer ${token}`, 'content-type': types },
      JSON.stringify({ sku: 'MUG', quantity: 1 }),
    );
    expect(answer.status).toBe(415);
    expect(answer.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type' });
    expect((await cartOf(token)).items).toEqual([]);
  },
);

test('two Host headers: 400, as HTTP/1.1 requires (RFC 9112 §3.2)', async () => {
  const url = new URL(region(WEST).url);
  // Written by hand: Node's client sends one Host at most.
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () =>
      socket.end(
        `GET /api/health HTTP/1.1\r\nHost: ${url.host}\r\nHost: elsewhere.example.com\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
  const body = JSON.parse(messageBody(answer));
  expect(body).toEqual({ message: 'Bad Request' });
  expectDocumented('GET', '/api/health', 400, body);
});

test('a JSON body without a Content-Type: 415, nothing written', async () => {
  const token = await client.token('eu', 'no-type');
  const answer = await raw(
    `${region(WEST).url}/api/me/cart/items`,
    'POST',
    { authorization: `Bearer ${token}` },
    JSON.stringify({ sku: 'MUG', quantity: 1 }),
  );
  expect(answer.status).toBe(415);
  expect((await cartOf(token)).items).toEqual([]);
});

test('straight to a region without the proof of origin: refused before any function runs; the health probes still answer', async () => {
  const token = await client.token('eu', 'bypass');
  const add = JSON.stringify({ sku: 'MUG', quantity: 1 });
  const asShopper = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const { url } of [region(WEST), region(CENTRAL)]) {
    // A missing identity source: API Gateway answers 401 without invoking the authorizer.
    expect(await raw(`${url}/api/me/cart/items`, 'POST', asShopper, add, false)).toEqual({
      status: 401,
      body: { message: 'Unauthorized' },
    });
    expect((await raw(`${url}/api/products/MUG`, 'GET', {}, undefined, false)).status).toBe(401);
    // A guessed proof: the authorizer refuses it, 403.
    const guessed = { ...asShopper, 'x-origin-verify': 'guess' };
    expect(await raw(`${url}/api/me/cart/items`, 'POST', guessed, add, false)).toEqual({
      status: 403,
      body: { message: 'Forbidden' },
    });
    expect((await raw(`${url}/api/health`, 'GET', {}, undefined, false)).status).toBe(200);
  }
  const orderHeaders = { ...asShopper, 'idempotency-key': 'bypass-1' };
  const order = JSON.stringify({ lines: [{ sku: 'MUG', quantity: 1 }] });
  expect((await raw(`${region(WEST).writerUrl}/api/orders`, 'POST', orderHeaders, order, false)).status).toBe(401);
  expect((await raw(`${region(WEST).writerUrl}${WRITER_HEALTH_PATH}`, 'GET', {}, undefined, false)).status).toBe(200);
  expect((await cartOf(token)).items).toEqual([]);
  // Through the edge, which adds the proof as CloudFront does, the same request is served.
  const served = await client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'MUG', quantity: 1 } });
  expect(served.status).toBe(200);
  expect((await cartOf(token)).items).toEqual([expect.objectContaining({ sku: 'MUG', quantity: 1 })]);
});

test("the writer's health is the writer API's alone, and exactly one region per jurisdiction is the writer", async () => {
  for (const handle of platform.regions) {
    expect((await raw(`${handle.url}${WRITER_HEALTH_PATH}`, 'GET', {})).status).toBe(404);
  }
  const writers = async () =>
    Promise.all(
      platform.regions.map(async (handle) => [
        handle.region,
        (await raw(`${handle.writerUrl}${WRITER_HEALTH_PATH}`, 'GET', {})).body.writer,
      ]),
    );
  expect(Object.fromEntries(await writers())).toEqual({
    'us-east-1': true,
    'ap-southeast-1': false,
    [WEST]: true,
    [CENTRAL]: false,
  });
  // After a write at the primary, the secondary is still not the writer.
  const token = await client.token('eu', 'writer-check');
  const order = await client.api(CENTRAL, 'POST', '/api/orders', {
    token,
    headers: { 'idempotency-key': 'writer-check-1' },
    body: { lines: [{ sku: 'MUG', quantity: 1 }] },
  });
  expect(order.status).toBe(201);
  expect((await raw(`${region(CENTRAL).writerUrl}${WRITER_HEALTH_PATH}`, 'GET', {})).body.writer).toBe(false);
  // The writer API has the strong routes and the writer's health, nothing else.
  expect((await raw(`${region(WEST).writerUrl}/api/health`, 'GET', {})).status).toBe(404);
});

test.each([
  [1.5, 'quantity must be an integer, not the number 1.5'],
  ['1', 'quantity must be an integer, not a string'],
  [true, 'quantity must be an integer, not true'],
])('a quantity of the wrong type (%j) names the field and the type it must be', async (quantity, message) => {
  const token = await client.token('eu', 'typed');
  const answer = await client.api(WEST, 'POST', '/api/me/cart/items', { token, body: { sku: 'MUG', quantity } });
  expect(answer.status).toBe(400);
  expect(answer.body).toEqual({ error: { code: 'INVALID_INPUT', message, field: 'quantity' } });
});

test('an order naming a SKU the catalog does not have is refused as an unknown product, not as short stock', async () => {
  const token = await client.token('eu', 'unknown-sku');
  const stock = async () =>
    (await client.api(WEST, 'GET', '/api/products/MUG', { headers: { 'cache-control': 'no-cache' } })).body.stock;
  const before = await stock();
  const answer = await client.api(WEST, 'POST', '/api/orders', {
    token,
    headers: { 'idempotency-key': 'unknown-sku-1' },
    body: {
      lines: [
        { sku: 'MUG', quantity: 1 },
        { sku: 'NO-SUCH-THING', quantity: 1 },
      ],
    },
  });
  expect(answer.status).toBe(404);
  expect(answer.body.error).toEqual({
    code: 'PRODUCT_NOT_FOUND',
    message: 'No product NO-SUCH-THING in this catalog.',
    field: 'lines[1].sku',
  });
  // Nothing taken from the known line's stock, read once the cached page (2 s here) is gone.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(await stock()).toBe(before);
});

test('a like takes no body: `{}` is refused like any other body', async () => {
  const token = await client.token('eu', 'liker');
  const answer = await client.api(WEST, 'POST', '/api/products/MUG/likes', { token, body: {} });
  expect(answer.status).toBe(400);
  expect(answer.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'body' });
});
