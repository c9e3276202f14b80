import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createOrdersApi } from '../../../lambda/orders/orders-api';
import { InvokedCardProcessor, type LambdaInvoker } from '../../../lambda/payments/invoked-card-processor';
import { createPaymentsHandler } from '../../../lambda/payments/payments-function';
import { PAYMENT_METHOD_UNUSABLE, StripeCardProcessor } from '../../../lambda/payments/stripe-card-processor';
import { matchRoute } from '../../../lambda/shared/api-contract';
import type { DomainHandler } from '../../../lambda/shared/instrumented';
import { StrongStore } from '../../../lambda/stores/strong-store';
import { apiGatewayEvent, lambdaContext } from '../../../local/api-gateway-event';
import { localIssuerOf } from '../../../local/dev-tokens';
import { type PostgresEngine, startPostgres } from '../../../local/engines';
import { LocalStripeServer, type StripeFault } from '../../../local/stripe-server';

// The orders API on real PostgreSQL, capturing through the Stripe adapter over HTTP
// against the local Stripe server: exactly one payment per order, none kept when an
// order fails.
const JURISDICTION = 'global';
const TIMEOUT_MS = 1000;
const HANG_MS = 1500;
let postgres: PostgresEngine;
let strong: StrongStore;
let stripe: LocalStripeServer;
let orders: DomainHandler;
/** The orders API as deployed: invoking the payments function, whose answer a test can lose. */
let invokingOrders: DomainHandler;
let loseNextAnswer = false;

interface Answer {
  readonly status: number;
  readonly body: any;
  readonly retryAfter?: unknown;
}

async function placeOrder(user: string, key: string, body: unknown, api = orders): Promise<Answer> {
  if (!firstIntentOf.has(user)) firstIntentOf.set(user, stripe.intents().length);
  const match = matchRoute('POST', '/api/orders');
  if (!match) throw new Error('no route POST /api/orders');
  const event = apiGatewayEvent(
    {
      method: 'POST',
      rawPath: '/api/orders',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    },
    match,
    { sub: user, iss: localIssuerOf(JURISDICTION, 'us-east-1') },
  );
  const response = (await api(event, lambdaContext('orders'))) as APIGatewayProxyStructuredResultV2;
  return {
    status: response.statusCode ?? 200,
    body: response.body ? JSON.parse(response.body) : undefined,
    retryAfter: response.headers?.['retry-after'],
  };
}

const stockOf = async (sku: string) => (await strong.getInventory(sku))?.quantity;
// Stripe is told no customer id (EU shoppers' ids stay in the EU), so a test's payments are
// the ones made since its user's first order; each user belongs to one test, and tests run in turn.
const firstIntentOf = new Map<string, number>();
const paymentsOf = (user: string) => stripe.intents().slice(firstIntentOf.get(user) ?? stripe.intents().length);
const kept = (user: string) => paymentsOf(user).filter((i) => i.status === 'succeeded' && !i.refunded);

beforeAll(async () => {
  [postgres, stripe] = await Promise.all([startPostgres(), LocalStripeServer.start()]);
  strong = StrongStore.connect({
    host: postgres.host,
    port: postgres.port,
    user: postgres.user,
    password: postgres.password,
    database: await postgres.createDatabase('commerce_stripe'),
    tls: false,
    maxConnections: 10,
    connectTimeoutMs: 10_000,
  });
  await strong.migrate();
  orders = createOrdersApi({
    context: {
      region: 'us-east-1',
      jurisdiction: JURISDICTION,
      primaryRegion: 'us-east-1',
      directory: { byPrimaryRegion: { 'us-east-1': JURISDICTION }, apiHosts: {} },
    },
    strong,
    payments: new StripeCardProcessor({ apiKey: stripe.apiKey, baseUrl: stripe.baseUrl, timeoutMs: TIMEOUT_MS }),
  });
  // The payments function run in-process behind a Lambda client that can lose its answer
  // after the function has run (the invoke's wait running out, the connection dropping).
  const paymentsFunction = createPaymentsHandler({
    processor: async () =>
      new StripeCardProcessor({ apiKey: stripe.apiKey, baseUrl: stripe.baseUrl, timeoutMs: TIMEOUT_MS }),
    log: { warn: () => undefined, error: () => undefined },
  });
  const lambdaClient: LambdaInvoker = {
    send: async (command) => {
      const event = JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array));
      const result = await paymentsFunction(event);
      if (loseNextAnswer) {
        loseNextAnswer = false;
        throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
      }
      return {
        StatusCode: 200,
        Payload: new TextEncoder().encode(JSON.stringify(result)),
      } as unknown as InvokeCommandOutput;
    },
  };
  invokingOrders = createOrdersApi({
    context: {
      region: 'us-east-1',
      jurisdiction: JURISDICTION,
      primaryRegion: 'us-east-1',
      directory: { byPrimaryRegion: { 'us-east-1': JURISDICTION }, apiHosts: {} },
    },
    strong,
    payments: new InvokedCardProcessor({ functionName: 'payments', client: lambdaClient }),
  });
});

afterAll(async () => {
  await strong?.close();
  await stripe?.close();
  await postgres?.destroy();
});

test('the same Idempotency-Key 5 times concurrently and 5 times in sequence: one order, one payment kept', async () => {
  await strong.putInventory({ sku: 'KETTLE', quantity: 10, priceCents: 4200, currency: 'USD' });
  const body = { lines: [{ sku: 'KETTLE', quantity: 2 }], paymentMethod: 'pm_card_visa' };
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => placeOrder('buyer-once', 'checkout-1', body)));
  const sequential: Answer[] = [];
  for (let i = 0; i < 5; i++) sequential.push(await placeOrder('buyer-once', 'checkout-1', body));
  const all = [...concurrent, ...sequential];
  expect(all.map((a) => a.status)).toEqual(Array(10).fill(201));
  for (const answer of all) expect(answer.body).toEqual(all[0]?.body);
  expect(paymentsOf('buyer-once')).toEqual([
    expect.objectContaining({
      id: all[0]?.body.captureId,
      amount: 8400,
      currency: 'usd',
      status: 'succeeded',
      refunded: false,
    }),
  ]);
  expect(await stockOf('KETTLE')).toBe(8);
});

test.each<[StripeFault, 'authorize' | 'capture']>([
  ['error-before', 'authorize'],
  ['error-after', 'capture'],
  ['hang-after', 'capture'],
])(
  'Stripe %s on %s: 503, no payment kept, stock unchanged; the same key succeeds once Stripe is back',
  async (fault, operation) => {
    const user = `buyer-${fault}-${operation}`;
    await strong.putInventory({ sku: 'TEAPOT', quantity: 5, priceCents: 1500, currency: 'USD' });
    const body = { lines: [{ sku: 'TEAPOT', quantity: 1 }], paymentMethod: 'pm_card_visa' };
    stripe.inject({ fault, operation, hangMs: HANG_MS });
    const failed = await placeOrder(user, 'checkout-1', body);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('PAYMENT_UNAVAILABLE');
    expect(kept(user)).toEqual([]);
    expect(await stockOf('TEAPOT')).toBe(5);

    const retried = await placeOrder(user, 'checkout-1', body);
    expect(retried.status).toBe(201);
    expect(kept(user).map((i) => i.id)).toEqual([retried.body.captureId]);
    expect(await stockOf('TEAPOT')).toBe(4);
  },
);

test('a declined card: 402 PAYMENT_DECLINED, stored for the key, no stock taken, no money taken', async () => {
  await strong.putInventory({ sku: 'VASE', quantity: 3, priceCents: 900, currency: 'USD' });
  const body = { lines: [{ sku: 'VASE', quantity: 1 }], paymentMethod: 'pm_card_chargeDeclined' };
  const declined = await placeOrder('buyer-declined', 'checkout-1', body);
  expect(declined.status).toBe(402);
  expect(declined.body.error).toMatchObject({
    code: 'PAYMENT_DECLINED',
    message: expect.stringContaining('generic_decline'),
  });
  expect(await placeOrder('buyer-declined', 'checkout-1', body)).toEqual(declined);
  expect(paymentsOf('buyer-declined').map((i) => i.status)).toEqual(['requires_payment_method']);
  expect(await stockOf('VASE')).toBe(3);
});

test('an order without paymentMethod is refused 400 naming it, before Stripe is called or the key is spent', async () => {
  await strong.putInventory({ sku: 'SPOON', quantity: 3, priceCents: 300, currency: 'USD' });
  const refused = await placeOrder('buyer-no-card', 'checkout-1', { lines: [{ sku: 'SPOON', quantity: 1 }] });
  expect(refused.status).toBe(400);
  expect(refused.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'paymentMethod' });
  expect(paymentsOf('buyer-no-card')).toEqual([]);
  const paid = await placeOrder('buyer-no-card', 'checkout-1', {
    lines: [{ sku: 'SPOON', quantity: 1 }],
    paymentMethod: 'pm_card_visa',
  });
  expect(paid.status).toBe(201);
  expect(kept('buyer-no-card')).toHaveLength(1);
});

test('the same key with another card is another request: 422, nothing charged again', async () => {
  await strong.putInventory({ sku: 'FORK', quantity: 3, priceCents: 300, currency: 'USD' });
  const lines = [{ sku: 'FORK', quantity: 1 }];
  expect((await placeOrder('buyer-two-cards', 'checkout-1', { lines, paymentMethod: 'pm_card_visa' })).status).toBe(
    201,
  );
  const other = await placeOrder('buyer-two-cards', 'checkout-1', { lines, paymentMethod: 'pm_card_mastercard' });
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(paymentsOf('buyer-two-cards')).toHaveLength(1);
});

test('the payments answer lost after the capture: 503 PAYMENT_OUTCOME_UNKNOWN, never "nothing charged"; the same key retried keeps exactly one payment', async () => {
  // given a capture made at Stripe whose answer never reaches the orders function
  const user = 'buyer-answer-lost';
  await strong.putInventory({ sku: 'LADLE', quantity: 4, priceCents: 2500, currency: 'USD' });
  const body = { lines: [{ sku: 'LADLE', quantity: 1 }], paymentMethod: 'pm_card_visa' };
  loseNextAnswer = true;
  // when the order is placed
  const lost = await placeOrder(user, 'checkout-1', body, invokingOrders);
  // then the answer says the outcome is unknown, not that nothing was charged
  expect(lost.status).toBe(503);
  expect(lost.retryAfter).toBe('20');
  expect(lost.body.error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
  expect(lost.body.error.message).toMatch(/may have been charged/);
  expect(lost.body.error.message).not.toMatch(/nothing was charged/);
  expect(kept(user)).toHaveLength(1);
  expect(await stockOf('LADLE')).toBe(4);

  // when the client retries with the same key and body, then the order takes that payment
  const retried = await placeOrder(user, 'checkout-1', body, invokingOrders);
  expect(retried.status).toBe(201);
  expect(kept(user).map((i) => i.id)).toEqual([retried.body.captureId]);
  expect(paymentsOf(user)).toHaveLength(1);
  expect(await stockOf('LADLE')).toBe(3);
  expect(await placeOrder(user, 'checkout-1', body, invokingOrders)).toEqual(retried);
});

test('a lost capture answer whose refund fails too: PAYMENT_OUTCOME_UNKNOWN, and the retry keeps that one payment', async () => {
  const user = 'buyer-refund-fails';
  await strong.putInventory({ sku: 'WHISK', quantity: 4, priceCents: 800, currency: 'USD' });
  const body = { lines: [{ sku: 'WHISK', quantity: 1 }], paymentMethod: 'pm_card_visa' };
  stripe.inject({ fault: 'error-after', operation: 'capture' });
  stripe.inject({ fault: 'error-before', operation: 'refund', count: 2 });
  const failed = await placeOrder(user, 'checkout-1', body);
  expect(failed.status).toBe(503);
  expect(failed.body.error.code).toBe('PAYMENT_OUTCOME_UNKNOWN');
  expect(kept(user)).toHaveLength(1);

  const retried = await placeOrder(user, 'checkout-1', body);
  expect(retried.status).toBe(201);
  expect(kept(user).map((i) => i.id)).toEqual([retried.body.captureId]);
  expect(await stockOf('WHISK')).toBe(3);
});

test('a card number as paymentMethod: 400 naming it, before Stripe is called or anything is stored', async () => {
  await strong.putInventory({ sku: 'SIEVE', quantity: 3, priceCents: 600, currency: 'USD' });
  const lines = [{ sku: 'SIEVE', quantity: 1 }];
  const refused = await placeOrder('buyer-pan', 'checkout-1', { lines, paymentMethod: '4242424242424242' });
  expect(refused.status).toBe(400);
  expect(refused.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'paymentMethod' });
  expect(JSON.stringify(refused.body)).not.toContain('4242424242424242');
  expect(paymentsOf('buyer-pan')).toEqual([]);
  // Nothing stored under the key: the same key with a real payment method is a first request.
  const paid = await placeOrder('buyer-pan', 'checkout-1', { lines, paymentMethod: 'pm_card_visa' });
  expect(paid.status).toBe(201);
});

test("a payment method Stripe does not know: 402 with a fixed reason, Stripe's message not echoed nor stored", async () => {
  await strong.putInventory({ sku: 'GRATER', quantity: 3, priceCents: 600, currency: 'USD' });
  const body = { lines: [{ sku: 'GRATER', quantity: 1 }], paymentMethod: 'pm_NoSuchMethod123' };
  const refused = await placeOrder('buyer-unknown-pm', 'checkout-1', body);
  expect(refused.status).toBe(402);
  expect(refused.body.error).toEqual({
    code: 'PAYMENT_DECLINED',
    message: `The payment was declined: ${PAYMENT_METHOD_UNUSABLE}.`,
  });
  expect(JSON.stringify(refused.body)).not.toMatch(/NoSuchMethod|No such/);
  // The stored answer is the one replayed.
  expect(await placeOrder('buyer-unknown-pm', 'checkout-1', body)).toEqual(refused);
  expect(await stockOf('GRATER')).toBe(3);
});
