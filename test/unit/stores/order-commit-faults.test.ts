import type { Pool, PoolClient, QueryResult } from 'pg';
import { PaymentUnavailableError, RecordingCardProcessor } from '../../../lambda/payments/card-processor';
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
  expect(unknown).toHaveBeenCalledWith({ captureId: payments.charges[0]?.captureId, userId: 'buyer', key: 'key-1' });
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
  expect(unknown).toHaveBeenCalledWith({ captureId: payments.captures[0]?.captureId, userId: 'buyer', key: 'key-1' });
});

test('each order attempt asks the processor under its own key', async () => {
  const payments = new RecordingCardProcessor();
  for (let attempt = 0; attempt < 2; attempt++) {
    const { pool } = poolFailingAtCommit(() => result([], 0));
    await expect(new StrongStore(pool).placeOrder(INPUT, payments)).rejects.toThrow();
  }
  const keys = payments.captures.map((c) => c.idempotencyKey);
  expect(new Set(keys).size).toBe(2);
  expect(payments.captures.every((c) => c.customerId === 'buyer')).toBe(true);
});
