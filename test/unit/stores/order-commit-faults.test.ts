import type { Pool, PoolClient, QueryResult } from 'pg';
import {
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
  RecordingCardProcessor,
} from '../../../lambda/payments/card-processor';
import { StrongStoreUnavailableError } from '../../../lambda/shared/api-error';
import { type PlaceOrderInput, StrongStore } from '../../../lambda/stores/strong-store';

// Error paths of the order transaction that a real database cannot be made to hit on
// cue: the connection dying during COMMIT itself. A scripted connection stands in.
const INPUT: PlaceOrderInput = {
  userId: 'buyer',
  idempotencyKey: 'key-1',
  request: { lines: [{ sku: 'MUG', quantity: 1 }] },
  region: 'eu-west-1',
  now: new Date('2026-11-26T10:00:00Z'),
};

const connectionReset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

function result(rows: Record<string, unknown>[] = [], rowCount = rows.length): QueryResult {
  return { rows, rowCount } as unknown as QueryResult;
}

/** A pool whose one connection answers the order transaction and fails at COMMIT. */
function poolFailingAtCommit(afterwards: (captureId: string) => QueryResult | Error) {
  let captureId = '';
  let storedResponse: unknown;
  const client = {
    query: async (text: string, values?: unknown[]) => {
      if (text === 'COMMIT') throw connectionReset;
      if (text.startsWith('SELECT sku'))
        return result([{ sku: 'MUG', quantity: 5, price_cents: 700, currency: 'EUR' }]);
      if (text.startsWith('INSERT INTO payment_ledger')) captureId = String(values?.[0]);
      if (text.startsWith('UPDATE order_requests')) storedResponse = JSON.parse(String(values?.[3]));
      return result([], 1);
    },
    release: jest.fn(),
  } as unknown as PoolClient;
  const pool = {
    on: () => pool,
    connect: async () => client,
    query: async (text: string) => {
      const outcome = afterwards(captureId);
      if (outcome instanceof Error) throw outcome;
      if (text.includes('FROM order_requests')) return result([{ status_code: 201, response: storedResponse }]);
      return outcome;
    },
  } as unknown as Pool;
  return { pool, client };
}

test('COMMIT failed but the order is in the ledger: the order stands and the capture is kept', async () => {
  const { pool, client } = poolFailingAtCommit(() => result([{ '?column?': 1 }], 1));
  const payments = new RecordingCardProcessor();
  const outcome = await new StrongStore(pool).placeOrder(INPUT, payments);
  expect(outcome).toMatchObject({ kind: 'answered', response: { statusCode: 201 } });
  expect(payments.charges).toHaveLength(1);
  expect(client.release).toHaveBeenCalledWith(true);
});

test('COMMIT failed and the ledger has no such capture: the money goes back, the caller may retry', async () => {
  const { pool } = poolFailingAtCommit(() => result([], 0));
  const payments = new RecordingCardProcessor();
  await expect(new StrongStore(pool).placeOrder(INPUT, payments)).rejects.toBeInstanceOf(StrongStoreUnavailableError);
  expect(payments.captures).toHaveLength(1);
  expect(payments.charges).toHaveLength(0);
});

test('COMMIT failed and the store cannot say: the capture is kept and reported, not voided blindly', async () => {
  const { pool } = poolFailingAtCommit(() => connectionReset);
  const payments = new RecordingCardProcessor();
  const unknown = jest.fn();
  await expect(new StrongStore(pool).placeOrder(INPUT, payments, unknown)).rejects.toBeInstanceOf(
    StrongStoreUnavailableError,
  );
  expect(payments.charges).toHaveLength(1);
  expect(unknown).toHaveBeenCalledWith({
    captureId: payments.charges[0]?.captureId,
    orderId: payments.charges[0]?.orderId,
    userId: 'buyer',
    key: 'key-1',
  });
});

test('COMMIT failed and the refund fails too: the capture is reported, and the answer is the store error, not "nothing charged"', async () => {
  const { pool } = poolFailingAtCommit(() => result([], 0));
  const payments = new RecordingCardProcessor();
  payments.void = async () => {
    throw new PaymentUnavailableError('the processor did not answer the refund');
  };
  const unknown = jest.fn();
  await expect(new StrongStore(pool).placeOrder(INPUT, payments, unknown)).rejects.toBeInstanceOf(
    StrongStoreUnavailableError,
  );
  expect(unknown).toHaveBeenCalledWith({
    captureId: payments.captures[0]?.captureId,
    orderId: payments.captures[0]?.orderId,
    userId: 'buyer',
    key: 'key-1',
  });
});

test('every attempt of one order request asks the processor under the same key and order id; another key or body, another', async () => {
  // given two failed attempts of one request, then another key and another body
  const payments = new RecordingCardProcessor();
  const attempt = async (input: PlaceOrderInput) => {
    const { pool } = poolFailingAtCommit(() => result([], 0));
    await expect(new StrongStore(pool).placeOrder(input, payments)).rejects.toThrow();
  };
  await attempt(INPUT);
  await attempt(INPUT);
  await attempt({ ...INPUT, idempotencyKey: 'key-2' });
  await attempt({ ...INPUT, request: { lines: [{ sku: 'MUG', quantity: 2 }] } });
  // then the retry reaches the first attempt's payment; the others do not
  const [first, retry, otherKey, otherBody] = payments.captures;
  expect(retry?.idempotencyKey).toBe(first?.idempotencyKey);
  expect(retry?.orderId).toBe(first?.orderId);
  expect(first?.idempotencyKey).toBe(`order-${first?.orderId}`);
  expect(first?.orderId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set([first, otherKey, otherBody].map((c) => c?.idempotencyKey)).size).toBe(3);
  expect(payments.captures.every((c) => c.customerId === 'buyer')).toBe(true);
});

test('a payment outcome the processor cannot tell: reported with the order id, rolled back, the key unspent', async () => {
  // given a processor whose capture outcome is unknown
  const queries: string[] = [];
  const client = {
    query: async (text: string) => {
      queries.push(text.split(/\s/)[0] ?? '');
      if (text.startsWith('SELECT sku'))
        return result([{ sku: 'MUG', quantity: 5, price_cents: 700, currency: 'EUR' }]);
      return result([], 1);
    },
    release: jest.fn(),
  } as unknown as PoolClient;
  const pool = { on: () => pool, connect: async () => client } as unknown as Pool;
  const payments = new RecordingCardProcessor();
  let asked: { orderId: string } | undefined;
  payments.capture = async (request) => {
    asked = request;
    throw new PaymentOutcomeUnknownError('the payments function timed out');
  };
  const unknown = jest.fn();
  // when the order is placed; then
  await expect(new StrongStore(pool).placeOrder(INPUT, payments, unknown)).rejects.toBeInstanceOf(
    PaymentOutcomeUnknownError,
  );
  expect(unknown).toHaveBeenCalledWith({ orderId: asked?.orderId, userId: 'buyer', key: 'key-1' });
  expect(queries).toEqual(['BEGIN', 'INSERT', 'SELECT', 'ROLLBACK']);
});
