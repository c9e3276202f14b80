import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { requireOriginProof } from '../../../lambda/authorizer/origin-guard';
import { OriginProofVerifier } from '../../../lambda/authorizer/origin-proof';
import type { ApiDomain } from '../../../lambda/shared/api-contract';
import type { DomainHandler } from '../../../lambda/shared/instrumented';
import { Distance } from '../../../local/distance';
import { RegionalGateway } from '../../../local/regional-gateway';

// The local stand-in for a region's HTTP API, with stand-in functions: the event it builds
// and the gateway's own answers when a function fails, as API Gateway's payload 2.0 and
// Lambda behave.

const REGION = 'eu-west-1';
const PROOF = 'proof-of-origin';
const FUNCTION_TIMEOUT_MS = 300;
let gateway: RegionalGateway;
let received: APIGatewayProxyEventV2[];
let products: DomainHandler;

beforeAll(async () => {
  gateway = new RegionalGateway({
    context: {
      region: REGION,
      jurisdiction: 'eu',
      primaryRegion: REGION,
      directory: { byPrimaryRegion: {}, regionsOf: {} } as never,
    },
    // The AWS authorizer's order: the proof of origin, then (any) token.
    authorizer: requireOriginProof(new OriginProofVerifier(async () => [PROOF]), async () => ({
      isAuthorized: true,
      context: {},
    })),
    distance: Distance.fromReferenceTable({ scale: 0 }),
    writerRegion: () => REGION,
    writerUrlOf: () => undefined,
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
  });
  const byDomain: Record<string, DomainHandler> = {
    products: (event, context) => products(event, context),
  };
  gateway.handlers = new Proxy(byDomain, {
    get: (target, domain: string) => target[domain] ?? target.products,
  }) as Record<ApiDomain, DomainHandler>;
  await gateway.listen(0);
});

afterAll(async () => {
  await gateway.close();
});

beforeEach(() => {
  received = [];
  products = async (event) => {
    received.push(event);
    return { statusCode: 200, body: '{}' };
  };
});

const page = (query = '', init: RequestInit = {}) =>
  fetch(`${gateway.url}/api/products/LAMP${query}`, {
    ...init,
    headers: {
      authorization: 'Bearer token',
      'x-origin-verify': PROOF,
      ...(init.headers as Record<string, string>),
    },
  });

test('cookies arrive in `cookies`, not as a header; repeated query parameters joined with commas', async () => {
  // when
  const answer = await page('?size=s&size=m&colour=red%20ish', { headers: { cookie: 'a=1; b=2' } });
  // then
  expect(answer.status).toBe(200);
  const [event] = received;
  expect(event?.cookies).toEqual(['a=1', 'b=2']);
  expect(event?.headers.cookie).toBeUndefined();
  expect(event?.queryStringParameters).toEqual({ size: 's,m', colour: 'red ish' });
  expect(event?.rawQueryString).toBe('size=s&size=m&colour=red%20ish');
  expect(event?.pathParameters).toEqual({ sku: 'LAMP' });
});

test('a request without query string or cookies has neither field', async () => {
  await page();
  expect(received[0]).not.toHaveProperty('cookies');
  expect(received[0]).not.toHaveProperty('queryStringParameters');
});

test('a JSON or text body arrives as text; any other media type, or none, base64-encoded', async () => {
  // when
  const body = '{"name":"Lamp"}';
  for (const type of ['application/json', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded']) {
    await page('', { method: 'PUT', body, headers: { 'content-type': type } });
  }
  await page('', { method: 'PUT', body: new Blob([body]) });
  // then
  const bodies = received.map((e) => [e.isBase64Encoded, e.body]);
  const encoded = Buffer.from(body).toString('base64');
  expect(bodies).toEqual([
    [false, body],
    [false, body],
    [true, encoded],
    [true, encoded],
  ]);
});

test('a function that throws is answered 500 with API Gateway body', async () => {
  products = async () => {
    throw new Error('boom');
  };
  const answer = await page();
  expect([answer.status, await answer.json()]).toEqual([500, { message: 'Internal Server Error' }]);
});

test('a function that outlives its timeout is answered 500 when the timeout ends, not when it finishes', async () => {
  products = () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: '{}' }), 2000).unref());
  const started = Date.now();
  const answer = await page();
  const waited = Date.now() - started;
  expect([answer.status, await answer.json()]).toEqual([500, { message: 'Internal Server Error' }]);
  expect(waited).toBeGreaterThanOrEqual(FUNCTION_TIMEOUT_MS - 5);
  expect(waited).toBeLessThan(1500);
});

test("an event over Lambda's 6 MB invocation payload never reaches the function", async () => {
  const answer = await page('', {
    method: 'PUT',
    body: 'x'.repeat(6 * 1024 * 1024),
    headers: { 'content-type': 'text/plain' },
  });
  expect([answer.status, await answer.json()]).toEqual([500, { message: 'Internal Server Error' }]);
  expect(received).toEqual([]);
});

test('without the proof of origin no function runs: 401 when it is missing, 403 when it is wrong; health is open', async () => {
  // when
  const missing = await page('', { headers: { 'x-origin-verify': '' } });
  const wrong = await page('', { headers: { 'x-origin-verify': 'guess' } });
  const health = await fetch(`${gateway.url}/api/health`);
  // then
  expect([missing.status, await missing.json()]).toEqual([401, { message: 'Unauthorized' }]);
  expect([wrong.status, await wrong.json()]).toEqual([403, { message: 'Forbidden' }]);
  expect(health.status).toBe(200);
  expect(received.map((event) => event.routeKey)).toEqual(['GET /api/health']);
});

test('a binary body reaches the function byte for byte, base64-encoded', async () => {
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
  await page('', { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  expect(received.map((e) => [e.isBase64Encoded, e.body])).toEqual([[true, bytes.toString('base64')]]);
});
