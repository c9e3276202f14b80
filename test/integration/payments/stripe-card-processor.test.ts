import { randomUUID } from 'node:crypto';
import {
  type CaptureRequest,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
} from '../../../lambda/payments/card-processor';
import {
  AMOUNT_TOO_SMALL,
  ATTEMPTS_EXHAUSTED,
  PAYMENT_METHOD_UNUSABLE,
  StripeCardProcessor,
} from '../../../lambda/payments/stripe-card-processor';
import { LocalStripeServer, type StripeFault } from '../../../local/stripe-server';

// The Stripe adapter over real HTTP against the local Stripe server (loopback only).
// Generous for a loaded 2-core machine; a hang outlasts the client's deadline.
const TIMEOUT_MS = 1000;
const HANG_MS = 1500;
let stripe: LocalStripeServer;
let unreleased: { paymentIntent: string; reason: string }[];

const processor = (apiKey = stripe.apiKey) =>
  new StripeCardProcessor({
    apiKey,
    baseUrl: stripe.baseUrl,
    timeoutMs: TIMEOUT_MS,
    onUnreleased: (problem) => unreleased.push(problem),
  });

function captureRequest(paymentMethod = 'pm_card_visa'): CaptureRequest {
  const orderId = randomUUID();
  return {
    idempotencyKey: `order-${orderId}`,
    customerId: 'cus-1',
    orderId,
    amountCents: 4200,
    currency: 'EUR',
    paymentMethod,
  };
}

const intentsOf = (orderId: string) => stripe.intents().filter((i) => i.metadata.order_id === orderId);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  stripe = await LocalStripeServer.start();
});

beforeEach(() => {
  unreleased = [];
});

afterAll(async () => {
  await stripe?.close();
});

test('a card that pays is authorized, then captured: one payment intent kept, with the order in its metadata', async () => {
  const request = captureRequest();
  const result = await processor().capture(request);
  expect(result).toEqual({ status: 'captured', captureId: expect.stringMatching(/^pi_/) });
  expect(intentsOf(request.orderId)).toEqual([
    expect.objectContaining({
      id: result.status === 'captured' ? result.captureId : '',
      amount: 4200,
      currency: 'eur',
      status: 'succeeded',
      refunded: false,
      captureMethod: 'manual',
      metadata: { order_id: request.orderId },
    }),
  ]);
  const keys = stripe.requests.filter((r) => r.idempotencyKey?.startsWith(request.idempotencyKey));
  expect(keys.map((r) => [r.operation, r.idempotencyKey])).toEqual([
    ['authorize', `${request.idempotencyKey}-authorize`],
    ['capture', `${request.idempotencyKey}-capture`],
  ]);
});

test('a declined card is a decline with its reason, and takes no money', async () => {
  const request = captureRequest('pm_card_chargeDeclined');
  const result = await processor().capture(request);
  expect(result).toEqual({ status: 'declined', reason: 'Your card was declined (generic_decline)' });
  expect(intentsOf(request.orderId).map((i) => i.status)).toEqual(['requires_payment_method']);
});

test('a card that needs 3-D Secure is declined and its intent cancelled', async () => {
  const request = captureRequest('pm_card_authenticationRequired');
  expect(await processor().capture(request)).toMatchObject({ status: 'declined' });
  expect(intentsOf(request.orderId).map((i) => i.status)).toEqual(['canceled']);
});

test('a wrong API key is unavailable, with a message that names the problem and not the key', async () => {
  const request = captureRequest();
  const error = await processor('sk_test_wrong_secret_value')
    .capture(request)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PaymentUnavailableError);
  expect((error as Error).message).toMatch(/refused the API key \(HTTP 401\)/);
  expect((error as Error).message).not.toContain('sk_test_wrong');
  expect(intentsOf(request.orderId)).toEqual([]);
});

test.each<[StripeFault, 'authorize' | 'capture', string]>([
  ['error-before', 'authorize', 'nothing authorized'],
  ['error-after', 'authorize', 'canceled'],
  ['hang-after', 'authorize', 'canceled'],
  ['error-before', 'capture', 'canceled'],
  ['hang-before', 'capture', 'canceled'],
  ['error-after', 'capture', 'succeeded, refunded'],
  ['hang-after', 'capture', 'succeeded, refunded'],
])('%s on %s: unavailable, and no money kept (%s)', async (fault, operation, expected) => {
  const request = captureRequest();
  stripe.inject({ fault, operation, hangMs: HANG_MS });
  await expect(processor().capture(request)).rejects.toThrow(PaymentUnavailableError);
  if (fault === 'hang-before') await sleep(HANG_MS); // what the fault delayed has now happened
  const states = intentsOf(request.orderId).map((i) => `${i.status}${i.refunded ? ', refunded' : ''}`);
  expect(states.join() || 'nothing authorized').toBe(expected);
  expect(unreleased).toEqual([]);
});

test('hang-before on the authorization: unavailable; the late authorization is only a hold, never captured', async () => {
  const request = captureRequest();
  stripe.inject({ fault: 'hang-before', operation: 'authorize', hangMs: HANG_MS });
  await expect(processor().capture(request)).rejects.toThrow(
    /authorization's outcome is unknown \(no answer within 1000 ms\)/,
  );
  await sleep(HANG_MS + 100);
  // Stripe's search lags and a late create is not yet there: the documented residue is an
  // uncaptured authorization, which Stripe releases after 7 days.
  expect(intentsOf(request.orderId).map((i) => i.status)).toEqual(['requires_capture']);
});

test('the same capture request twice is one payment: Stripe replays it under the same keys', async () => {
  const request = captureRequest();
  const first = await processor().capture(request);
  const again = await processor().capture(request);
  expect(again).toEqual(first);
  expect(intentsOf(request.orderId)).toHaveLength(1);
  expect(stripe.requests.filter((r) => r.idempotencyKey === `${request.idempotencyKey}-authorize`)).toEqual([
    expect.objectContaining({ status: 200, replayed: false }),
    expect.objectContaining({ status: 200, replayed: true }),
  ]);
});

test('void refunds the capture once; voiding it again is a no-op', async () => {
  const request = captureRequest();
  const result = await processor().capture(request);
  if (result.status !== 'captured') throw new Error('expected a capture');
  await processor().void(result.captureId);
  await processor().void(result.captureId);
  expect(intentsOf(request.orderId)).toEqual([expect.objectContaining({ status: 'succeeded', refunded: true })]);
  expect(stripe.requests.filter((r) => r.idempotencyKey === `void-${result.captureId}`).map((r) => r.replayed)).toEqual(
    [false, true],
  );
});

test('a refund Stripe cannot take is unavailable, naming the payment', async () => {
  const request = captureRequest();
  const result = await processor().capture(request);
  if (result.status !== 'captured') throw new Error('expected a capture');
  stripe.inject({ fault: 'error-before', operation: 'refund', count: 2 });
  await expect(processor().void(result.captureId)).rejects.toThrow(`the refund of ${result.captureId} failed`);
  expect(intentsOf(request.orderId)).toEqual([expect.objectContaining({ refunded: false })]);
});

test('a retry after a capture given back (a voided order) is a new payment under keys of its own', async () => {
  const request = captureRequest();
  const first = await processor().capture(request);
  if (first.status !== 'captured') throw new Error('expected a capture');
  await processor().void(first.captureId);
  const again = await processor().capture(request);
  expect(again).toEqual({ status: 'captured', captureId: expect.not.stringMatching(first.captureId) });
  expect(intentsOf(request.orderId).map((i) => `${i.status}${i.refunded ? ', refunded' : ''}`)).toEqual([
    'succeeded, refunded',
    'succeeded',
  ]);
  expect(stripe.requests.some((r) => r.idempotencyKey === `${request.idempotencyKey}-authorize-2`)).toBe(true);
});

test('a capture whose answer was lost and whose refund failed: outcome unknown; the retry reuses it', async () => {
  const request = captureRequest();
  stripe.inject({ fault: 'error-after', operation: 'capture' });
  stripe.inject({ fault: 'error-before', operation: 'refund', count: 2 });
  await expect(processor().capture(request)).rejects.toThrow(PaymentOutcomeUnknownError);
  expect(unreleased).toEqual([expect.objectContaining({ reason: expect.stringContaining('HTTP 500') })]);
  const retried = await processor().capture(request);
  expect(intentsOf(request.orderId)).toEqual([
    expect.objectContaining({ id: retried.status === 'captured' ? retried.captureId : '', refunded: false }),
  ]);
});

test('an authorization made before a lost answer is captured by the retry, not made twice', async () => {
  const request = captureRequest();
  stripe.inject({ fault: 'error-before', operation: 'capture' });
  stripe.inject({ fault: 'error-before', operation: 'cancel' });
  await expect(processor().capture(request)).rejects.toThrow(PaymentUnavailableError);
  expect(intentsOf(request.orderId).map((i) => i.status)).toEqual(['requires_capture']);
  expect(await processor().capture(request)).toMatchObject({ status: 'captured' });
  expect(intentsOf(request.orderId).map((i) => i.status)).toEqual(['succeeded']);
});

test('two attempts both failed and given back: a stored decline that asks for a new key, nothing charged', async () => {
  const request = captureRequest();
  stripe.inject({ fault: 'error-before', operation: 'authorize', count: 2 });
  await expect(processor().capture(request)).rejects.toThrow(PaymentUnavailableError);
  await expect(processor().capture(request)).rejects.toThrow(PaymentUnavailableError);
  expect(await processor().capture(request)).toEqual({ status: 'declined', reason: ATTEMPTS_EXHAUSTED });
  expect(intentsOf(request.orderId)).toEqual([]);
});

test('the same order request priced differently cannot be told apart from its first attempt: outcome unknown', async () => {
  const request = captureRequest();
  stripe.inject({ fault: 'error-after', operation: 'capture' });
  stripe.inject({ fault: 'error-before', operation: 'refund', count: 2 });
  await expect(processor().capture(request)).rejects.toThrow(PaymentOutcomeUnknownError);
  await expect(processor().capture({ ...request, amountCents: 4300 })).rejects.toThrow(PaymentOutcomeUnknownError);
  expect(intentsOf(request.orderId)).toHaveLength(1);
});

test("an unknown payment method is a decline with a fixed reason; Stripe's message is not echoed", async () => {
  const request = captureRequest('pm_4242NoSuchThing');
  expect(await processor().capture(request)).toEqual({ status: 'declined', reason: PAYMENT_METHOD_UNUSABLE });
});

test("an amount below Stripe's minimum charge is a decline, and nothing is authorized", async () => {
  const request = { ...captureRequest(), amountCents: 49, currency: 'USD' };
  expect(await processor().capture(request)).toEqual({ status: 'declined', reason: AMOUNT_TOO_SMALL });
  expect(intentsOf(request.orderId)).toEqual([]);
  const fifty = { ...captureRequest(), amountCents: 50, currency: 'USD' };
  expect(await processor().capture(fifty)).toMatchObject({ status: 'captured' });
});

test('the local server refuses a parameter it does not know, as Stripe does, and stores nothing', async () => {
  const post = (body: string) =>
    fetch(`${stripe.baseUrl}/v1/refunds`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stripe.apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': 'unknown-param-1',
      },
      body,
    });
  const refused = await post('payment_intent=pi_x&reason_text=oops');
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { error: unknown }).error).toMatchObject({
    type: 'invalid_request_error',
    code: 'parameter_unknown',
    param: 'reason_text',
  });
  // Not stored under the key: the same key with valid parameters executes.
  const valid = await post('payment_intent=pi_x');
  expect(valid.status).toBe(404);
  expect(valid.headers.get('idempotent-replayed')).toBeNull();
});
