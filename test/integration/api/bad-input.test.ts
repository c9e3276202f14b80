import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { Client } from 'pg';
import { MAX_BODY_BYTES, MAX_LINE_QUANTITY, MAX_ORDER_LINES } from '../../../lambda/domain/input';
import { type ApiCall, type Engines, LocalJurisdiction, startEngines } from '../../support/local-jurisdiction';

// A generated corpus of malformed requests over every route: each must get a 4xx that
// names what is wrong in a shape docs/openapi.json documents, never a 5xx, and none may write
// anything anywhere.
let engines: Engines;
let eu: LocalJurisdiction;
const ADMIN = { sub: 'admin-1', groups: ['admin'] };
const USER = { sub: 'user-1' };
const REGIONS = ['eu-west-1', 'eu-central-1'];

interface BadRequest {
  readonly region: string;
  readonly method: string;
  readonly path: string;
  readonly call: ApiCall;
  readonly why: string;
}

const badSku = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }).map((s) => `${s}#`),
  fc.constantFrom('', ' ', '.hidden', '-dash', 'a b', 'sku;drop', 'ü', '%', '"', '<x>', 'a'.repeat(65)),
  fc.string({ minLength: 65, maxLength: 90 }).map((s) => `A${s}`),
);
const notAnInteger = fc.oneof(
  fc.double({ noInteger: true, noNaN: true }),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.nat(), { maxKeys: 1 }),
);
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const badQuantity = fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_LINE_QUANTITY + 1 }), notAnInteger);
const extraKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['__proto__', 'constructor'].includes(k));
const notAnObject = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 3 }),
);
const malformedJson = fc.oneof(
  fc.constantFrom('{', '{"sku":', '[1,', 'nul', "{'a':1}", '{"a":1,}', 'undefined', '{"a" 1}'),
  fc.string({ minLength: 1 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

interface Field {
  readonly required: boolean;
  readonly invalid: fc.Arbitrary<unknown>;
}

/** A valid body with exactly one thing made wrong. */
function brokenBody(
  valid: Record<string, unknown>,
  fields: Record<string, Field>,
): fc.Arbitrary<{ body: unknown; why: string }> {
  const entries = Object.entries(fields);
  const names = entries.map(([name]) => name);
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...entries), fc.constant(null))
      .chain(([[name, field]]) =>
        field.invalid.map((value) => ({ body: { ...valid, [name]: value }, why: `bad ${name}` })),
      ),
    fc.constantFrom(...entries.filter(([, field]) => field.required).map(([name]) => name)).map((name) => {
      const { [name]: _dropped, ...rest } = valid;
      return { body: rest, why: `missing ${name}` };
    }),
    extraKey.filter((k) => !names.includes(k)).map((k) => ({ body: { ...valid, [k]: 1 }, why: `extra ${k}` })),
    notAnObject.map((body) => ({ body, why: 'body not an object' })),
  );
}

const productFields: Record<string, Field> = {
  name: { required: true, invalid: fc.oneof(notAString, fc.constant(''), fc.constant('n'.repeat(201))) },
  description: { required: false, invalid: fc.oneof(notAString, fc.constant('d'.repeat(2001))) },
  priceCents: { required: true, invalid: fc.oneof(notAnInteger, fc.integer({ max: -1 }), fc.constant(100_000_001)) },
  currency: { required: true, invalid: fc.oneof(notAString, fc.constantFrom('eur', 'EURO', 'E1R', '')) },
  stock: { required: true, invalid: fc.oneof(notAnInteger, fc.integer({ max: -1 }), fc.integer({ min: 1_000_001 })) },
};
const profileFields: Record<string, Field> = {
  displayName: { required: true, invalid: fc.oneof(notAString, fc.constant(''), fc.constant('x'.repeat(101))) },
  preferences: {
    required: false,
    invalid: fc.oneof(
      notAnObject.filter((v) => v !== null),
      fc.constant({ '1bad': 'x' }),
      fc.constant({ theme: 3 }),
      fc.constant(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']))),
    ),
  },
};
const cartFields: Record<string, Field> = {
  sku: { required: true, invalid: fc.oneof(notAString, badSku) },
  quantity: { required: true, invalid: badQuantity },
};
const badLines = fc.oneof(
  fc.constant([]),
  fc.constant(Array.from({ length: MAX_ORDER_LINES + 1 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }))),
  badQuantity.map((quantity) => [{ sku: 'VALID-1', quantity }]),
  badSku.map((sku) => [{ sku, quantity: 1 }]),
  extraKey.filter((k) => k !== 'sku' && k !== 'quantity').map((k) => [{ sku: 'VALID-1', quantity: 1, [k]: true }]),
  fc.constant([
    { sku: 'VALID-1', quantity: 1 },
    { sku: 'VALID-1', quantity: 2 },
  ]),
  fc.constant([{ sku: 'VALID-1' }]),
  notAnObject.map((line) => [line]),
  notAnObject.filter((v) => !Array.isArray(v)),
);

const region = fc.constantFrom(...REGIONS);
const json = (body: unknown): ApiCall => ({ body });

const badRequests: fc.Arbitrary<BadRequest> = fc.oneof(
  // Bodies with one thing wrong, on every route that takes one.
  fc
    .tuple(region, brokenBody({ name: 'Mug', priceCents: 900, currency: 'EUR', stock: 3 }, productFields))
    .map(([r, b]) => ({
      region: r,
      method: 'PUT',
      path: '/api/products/VALID-1',
      call: { ...json(b.body), user: ADMIN },
      why: b.why,
    })),
  fc.tuple(region, brokenBody({ displayName: 'Ana', preferences: { theme: 'dark' } }, profileFields)).map(([r, b]) => ({
    region: r,
    method: 'PUT',
    path: '/api/me/profile',
    call: { ...json(b.body), user: USER },
    why: b.why,
  })),
  fc.tuple(region, brokenBody({ sku: 'VALID-1', quantity: 1 }, cartFields)).map(([r, b]) => ({
    region: r,
    method: 'POST',
    path: '/api/me/cart/items',
    call: { ...json(b.body), user: USER },
    why: b.why,
  })),
  fc
    .tuple(
      region,
      fc.oneof(
        badLines.map((lines) => ({ lines })),
        brokenBody({ lines: [{ sku: 'VALID-1', quantity: 1 }] }, { lines: { required: true, invalid: badLines } }),
      ),
      fc.uuid(),
    )
    .map(([r, body, key]) => ({
      region: r,
      method: 'POST',
      path: '/api/orders',
      call: { body: 'body' in body ? body.body : body, user: USER, headers: { 'Idempotency-Key': key } },
      why: 'bad order body',
    })),
  // Orders without a usable idempotency key.
  fc
    .tuple(
      region,
      fc.oneof(fc.constant(undefined), fc.constantFrom('', ' ', 'k'.repeat(129), 'key with spaces', 'ключ')),
    )
    .map(([r, key]) => ({
      region: r,
      method: 'POST',
      path: '/api/orders',
      call: {
        body: { lines: [{ sku: 'VALID-1', quantity: 1 }] },
        user: USER,
        headers: (key === undefined ? {} : { 'Idempotency-Key': key }) as Record<string, string>,
      },
      why: 'bad Idempotency-Key',
    })),
  // Bad SKUs and ids in paths.
  fc
    .tuple(
      region,
      badSku,
      fc.constantFrom<[method: string, pattern: string]>(
        ['GET', '/api/products/'],
        ['PUT', '/api/products/'],
        ['POST', '/api/products/*/likes'],
        ['DELETE', '/api/me/cart/items/'],
      ),
    )
    .map(([r, sku, [method, pattern]]) => {
      const encoded = encodeURIComponent(sku);
      const path = pattern.includes('*') ? pattern.replace('*', encoded) : `${pattern}${encoded}`;
      const call: ApiCall =
        method === 'PUT'
          ? { body: { name: 'Mug', priceCents: 1, currency: 'EUR', stock: 1 }, user: ADMIN }
          : { user: USER };
      return { region: r, method, path, call, why: `bad sku ${JSON.stringify(sku)}` };
    }),
  fc
    .tuple(
      region,
      fc.oneof(fc.constantFrom('123', 'not-a-uuid', 'g'.repeat(36)), fc.string({ minLength: 1, maxLength: 40 })),
    )
    .map(([r, id]) => ({
      region: r,
      method: 'GET',
      path: `/api/orders/${encodeURIComponent(id)}`,
      call: { user: USER },
      why: `bad order id ${JSON.stringify(id)}`,
    })),
  // Likes take no body and an optional, well-formed key.
  fc
    .tuple(
      region,
      fc.oneof(
        notAnObject.filter((v) => v !== null),
        fc.dictionary(extraKey, fc.nat(), { minKeys: 1, maxKeys: 2 }),
      ),
    )
    .map(([r, body]) => ({
      region: r,
      method: 'POST',
      path: '/api/products/VALID-1/likes',
      call: { body, user: USER },
      why: 'likes with a body',
    })),
  fc.tuple(region, fc.constantFrom('', 'a b', 'x'.repeat(129))).map(([r, key]) => ({
    region: r,
    method: 'POST',
    path: '/api/products/VALID-1/likes',
    call: { user: USER, headers: { 'Idempotency-Key': key } },
    why: 'likes with a bad key',
  })),
  // Malformed JSON, oversized bodies and other media types on every body route.
  fc
    .tuple(
      region,
      fc.constantFrom(
        ['PUT', '/api/products/VALID-1', ADMIN],
        ['PUT', '/api/me/profile', USER],
        ['POST', '/api/me/cart/items', USER],
        ['POST', '/api/orders', USER],
      ),
      fc.oneof(
        malformedJson.map((rawBody) => ({ rawBody, why: 'malformed JSON' })),
        fc.constant({ rawBody: JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) }), why: 'oversized body' }),
        fc.constant({ rawBody: '{}', headers: { 'content-type': 'text/plain' }, why: 'not JSON' }),
        fc.constant({ rawBody: '{}', headers: { 'content-type': '' }, why: 'no media type' }),
        // Two Content-Type headers, as API Gateway hands them over: joined with a comma.
        fc.constantFrom('application/json,text/plain', 'text/plain,application/json').map((type) => ({
          rawBody: '{}',
          headers: { 'content-type': type },
          why: 'two media types',
        })),
      ),
    )
    .map(([r, [method, path, user], bad]) => ({
      region: r,
      method: method as string,
      path: path as string,
      call: {
        rawBody: bad.rawBody,
        user: user as typeof USER,
        headers: { 'Idempotency-Key': 'k-1', ...('headers' in bad ? bad.headers : {}) },
      },
      why: bad.why,
    })),
  // A body on the routes that take none, `{}` included.
  fc.tuple(region, fc.constantFrom('{}', '{"a":1}', '[]', 'null')).chain(([r, rawBody]) =>
    fc.constantFrom(
      {
        region: r,
        method: 'POST',
        path: '/api/products/VALID-1/likes',
        call: { user: USER, rawBody },
        why: 'a like with a body',
      },
      {
        region: r,
        method: 'DELETE',
        path: '/api/me/cart/items/VALID-1',
        call: { user: USER, rawBody },
        why: 'a remove with a body',
      },
    ),
  ),
  // Routes that do not exist.
  fc.tuple(region, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), fc.webPath()).map(([r, method, path]) => ({
    region: r,
    method,
    path: `/api/nope${path}`,
    call: { user: USER },
    why: 'unknown route',
  })),
  // Someone who is not an admin changing a product.
  region.map((r) => ({
    region: r,
    method: 'PUT',
    path: '/api/products/VALID-1',
    call: { body: { name: 'Mug', priceCents: 1, currency: 'EUR', stock: 1 }, user: USER },
    why: 'not an admin',
  })),
);

/** Everything the platform stores: both table replicas, the database, the processor. */
async function fingerprint(): Promise<string> {
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: engines.dynamo.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    }),
  );
  const hash = createHash('sha256');
  for (const r of REGIONS) {
    const items = (await documents.send(new ScanCommand({ TableName: eu.region(r).tableName }))).Items ?? [];
    hash.update(JSON.stringify(items.map((item) => JSON.stringify(Object.entries(item).sort())).sort()));
  }
  const client = new Client({ ...engines.postgres, database: 'commerce_eu' });
  await client.connect();
  for (const table of ['inventory', 'orders', 'payment_ledger', 'order_requests']) {
    hash.update(JSON.stringify((await client.query(`SELECT * FROM ${table} ORDER BY 1`)).rows));
  }
  await client.end();
  hash.update(String(eu.payments.captures.length));
  return hash.digest('hex');
}

beforeAll(async () => {
  engines = await startEngines();
  eu = await LocalJurisdiction.create(engines, { name: 'eu', regions: REGIONS });
  const seeded = await eu.request('eu-west-1', 'PUT', '/api/products/VALID-1', {
    user: ADMIN,
    body: { name: 'Mug', priceCents: 900, currency: 'EUR', stock: 5 },
  });
  expect(seeded.status).toBe(200);
  await eu.replicate();
});

afterAll(async () => {
  await eu?.close();
  await engines?.close();
});

test('1,000 generated malformed requests: every answer a documented 4xx naming the problem, none a 5xx, nothing written', async () => {
  const before = await fingerprint();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(badRequests, async (bad) => {
      const answer = await eu.request(bad.region, bad.method, bad.path, bad.call);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      expect({ why: bad.why, status: answer.status }).toEqual({ why: bad.why, status: expect.any(Number) });
      if (answer.status < 400 || answer.status >= 500) {
        throw new Error(
          `${bad.method} ${bad.path} (${bad.why}) answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
      }
      if (answer.answeredBy !== 'gateway') {
        expect(typeof answer.body.error.code).toBe('string');
        expect(answer.body.error.message.length).toBeGreaterThan(0);
        if (answer.status !== 403) expect(typeof answer.body.error.field).toBe('string');
      }
    }),
    // Each answer is also checked against docs/openapi.json by `eu.request`.
    { numRuns: 1000 },
  );
  expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(1000);
  expect(await fingerprint()).toBe(before);
  // The corpus reached the functions, not just the gateway's own 404s.
  expect((statuses.get(400) ?? 0) + (statuses.get(413) ?? 0) + (statuses.get(415) ?? 0)).toBeGreaterThan(500);
});
