import {
  type CardProcessor,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
  RecordingCardProcessor,
} from '../../../lambda/payments/card-processor';
import { InvokedCardProcessor } from '../../../lambda/payments/invoked-card-processor';
import { createPaymentsHandler } from '../../../lambda/payments/payments-function';
import { cardProcessorFromEnvironment } from '../../../lambda/payments/processor-from-environment';

// The payments function's event handling and the orders function's processor choice; the
// Stripe calls themselves are covered over HTTP in test/integration/payments.
const REQUEST = {
  idempotencyKey: 'order-1',
  customerId: 'cus-1',
  orderId: '1',
  amountCents: 500,
  currency: 'USD',
  paymentMethod: 'pm_card_visa',
};

function handlerWith(processor: () => Promise<CardProcessor>) {
  const logged: string[] = [];
  const log = { warn: (m: string) => logged.push(`warn ${m}`), error: (m: string) => logged.push(`error ${m}`) };
  return { logged, handler: createPaymentsHandler({ processor, log }) };
}

describe('the payments function', () => {
  test('captures and voids as asked', async () => {
    // given a processor that records
    const recording = new RecordingCardProcessor();
    const { handler } = handlerWith(async () => recording);
    // when asked to capture, then to void
    const captured = await handler({ action: 'capture', request: REQUEST });
    expect(captured).toEqual({ status: 'captured', captureId: expect.any(String) });
    const captureId = 'captureId' in captured ? captured.captureId : '';
    expect(await handler({ action: 'void', captureId })).toEqual({ status: 'voided' });
    // then the processor saw one capture, voided
    expect(recording.captures).toEqual([expect.objectContaining({ ...REQUEST, captureId, voided: true })]);
  });

  test.each([
    ['no action', { request: REQUEST }],
    ['an unknown action', { action: 'refund', captureId: 'pi_1' }],
    ['a capture without its request', { action: 'capture' }],
    ['a capture with a negative amount', { action: 'capture', request: { ...REQUEST, amountCents: -5 } }],
    ['a capture with an unknown field', { action: 'capture', request: { ...REQUEST, cardNumber: '4242' } }],
    ['a void without captureId', { action: 'void' }],
    ['not an object', 'capture'],
  ])('refuses %s as invalid, calling no processor', async (_, event) => {
    const processor = jest.fn(async () => new RecordingCardProcessor());
    const { handler, logged } = handlerWith(processor);
    expect(await handler(event)).toEqual({
      error: 'invalid',
      reason: expect.stringContaining('not a capture or void'),
    });
    expect(processor).not.toHaveBeenCalled();
    expect(logged).toEqual(['error payments event refused']);
  });

  test('an unreachable processor, or an unreadable key, answers unavailable with the reason', async () => {
    const down: CardProcessor = {
      capture: async () => {
        throw new PaymentUnavailableError('Stripe down');
      },
      void: async () => undefined,
    };
    expect(await handlerWith(async () => down).handler({ action: 'capture', request: REQUEST })).toEqual({
      error: 'unavailable',
      reason: 'Stripe down',
    });
    const noKey = handlerWith(async () => {
      throw new PaymentUnavailableError('the payments secret could not be read');
    });
    expect(await noKey.handler({ action: 'void', captureId: 'pi_1' })).toEqual({
      error: 'unavailable',
      reason: 'the payments secret could not be read',
    });
    expect(noKey.logged).toEqual(['warn card processor unavailable']);
  });
});

test('a payment whose outcome the processor cannot tell answers outcome-unknown, logged as an error', async () => {
  const unsure: CardProcessor = {
    capture: async () => {
      throw new PaymentOutcomeUnknownError('the refund of pi_1 failed');
    },
    void: async () => undefined,
  };
  const { handler, logged } = handlerWith(async () => unsure);
  expect(await handler({ action: 'capture', request: REQUEST })).toEqual({
    error: 'outcome-unknown',
    reason: 'the refund of pi_1 failed',
  });
  expect(logged).toEqual(['error payment outcome unknown']);
});

describe('the orders function processor, by PAYMENT_PROCESSOR', () => {
  test.each([
    [{}, 'UnconfiguredCardProcessor'],
    [{ PAYMENT_PROCESSOR: 'unconfigured' }, 'UnconfiguredCardProcessor'],
    [{ PAYMENT_PROCESSOR: 'recording' }, 'RecordingCardProcessor'],
    [
      { PAYMENT_PROCESSOR: 'stripe', PAYMENTS_FUNCTION: 'payments-fn', AWS_REGION: 'eu-west-1' },
      InvokedCardProcessor.name,
    ],
  ])('%j: %s', (env, expected) => {
    expect(cardProcessorFromEnvironment(env).constructor.name).toBe(expected);
  });

  test('stripe without PAYMENTS_FUNCTION, or an unknown value, stops the cold start naming it', () => {
    expect(() => cardProcessorFromEnvironment({ PAYMENT_PROCESSOR: 'stripe' })).toThrow('PAYMENTS_FUNCTION is not set');
    expect(() => cardProcessorFromEnvironment({ PAYMENT_PROCESSOR: 'paypal' })).toThrow(
      "PAYMENT_PROCESSOR is 'paypal': expected unconfigured, recording or stripe",
    );
  });
});
