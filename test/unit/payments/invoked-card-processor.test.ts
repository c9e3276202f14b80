import type { InvokeCommand, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import {
  type CaptureRequest,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
} from '../../../lambda/payments/card-processor';
import { InvokedCardProcessor, type LambdaInvoker } from '../../../lambda/payments/invoked-card-processor';

// The orders side of the payments function: what each answer, or failure, of the invoke
// becomes. The Lambda client is faked; the payments function's own behaviour is covered
// over HTTP in test/integration/payments.
const REQUEST: CaptureRequest = {
  idempotencyKey: 'order-1',
  customerId: 'cus-1',
  orderId: '1',
  amountCents: 500,
  currency: 'USD',
  paymentMethod: 'pm_card_visa',
};

function answering(answer: () => Promise<Partial<InvokeCommandOutput>>) {
  const calls: { input: InvokeCommand['input']; signal: AbortSignal }[] = [];
  const client: LambdaInvoker = {
    send: async (command, options) => {
      calls.push({ input: command.input, signal: options.abortSignal });
      return (await answer()) as InvokeCommandOutput;
    },
  };
  return { calls, processor: new InvokedCardProcessor({ functionName: 'payments-fn', client }) };
}

const bytes = (text: string) => new TextEncoder().encode(text) as InvokeCommandOutput['Payload'];
const payload = (value: unknown) => ({ StatusCode: 200, Payload: bytes(JSON.stringify(value)) });

describe('InvokedCardProcessor', () => {
  test('a capture is a RequestResponse invoke of the payments function, its answer passed back', async () => {
    // given a payments function that captures
    const { calls, processor } = answering(async () => payload({ status: 'captured', captureId: 'pi_1' }));
    // when an order captures; then
    expect(await processor.capture(REQUEST)).toEqual({ status: 'captured', captureId: 'pi_1' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.input).toMatchObject({ FunctionName: 'payments-fn', InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(calls[0]?.input.Payload as Uint8Array))).toEqual({
      action: 'capture',
      request: REQUEST,
    });
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  test('a decline and a void pass through', async () => {
    const declined = answering(async () => payload({ status: 'declined', reason: 'card declined' }));
    expect(await declined.processor.capture(REQUEST)).toEqual({ status: 'declined', reason: 'card declined' });
    const voided = answering(async () => payload({ status: 'voided' }));
    await expect(voided.processor.void('pi_1')).resolves.toBeUndefined();
  });

  test.each<[string, () => Promise<Partial<InvokeCommandOutput>>, RegExp]>([
    [
      'the function reports the processor unavailable',
      async () => payload({ error: 'unavailable', reason: 'Stripe down' }),
      /unavailable: Stripe down/,
    ],
    [
      'the function refused the event',
      async () => payload({ error: 'invalid', reason: 'bad event' }),
      /invalid: bad event/,
    ],
    [
      'Lambda refused the invoke (throttled: the function did not run)',
      async () => {
        throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException', $fault: 'client' });
      },
      /could not be invoked \(TooManyRequestsException\)/,
    ],
  ])('%s: PaymentUnavailableError, nothing charged', async (_, answer, message) => {
    const { processor } = answering(answer);
    const error = await processor.capture(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentUnavailableError);
    expect((error as Error).message).toMatch(message);
  });

  test.each<[string, () => Promise<Partial<InvokeCommandOutput>>, RegExp]>([
    [
      'the function reports the outcome unknown',
      async () => payload({ error: 'outcome-unknown', reason: 'refund failed' }),
      /outcome-unknown|refund failed/,
    ],
    [
      'the function failed (timed out, crashed)',
      async () => ({ ...payload({ errorMessage: 'Task timed out' }), FunctionError: 'Unhandled' }),
      /failed \(Unhandled\)/,
    ],
    ['the payload is not JSON', async () => ({ StatusCode: 200, Payload: bytes('<html>') }), /no JSON/],
    ['the payload has an unknown shape', async () => payload({ status: 'maybe' }), /unknown shape/],
    ['a capture is answered as a void', async () => payload({ status: 'voided' }), /answered voided to a capture/],
    [
      'the invoke fails on the server side or the network',
      async () => {
        throw Object.assign(new Error('socket hang up'), { name: 'ServiceException', $fault: 'server' });
      },
      /could not be invoked \(ServiceException\)/,
    ],
    [
      'the invoke is aborted at its deadline',
      async () => {
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      },
      /could not be invoked \(AbortError\)/,
    ],
  ])('%s: PaymentOutcomeUnknownError, never "nothing charged"', async (_, answer, message) => {
    const { processor, calls } = answering(answer);
    const error = await processor.capture(REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentOutcomeUnknownError);
    expect(error).not.toBeInstanceOf(PaymentUnavailableError);
    expect((error as Error).message).toMatch(message);
    // Not invoked again: the client's retry with the same key is the replay.
    expect(calls).toHaveLength(1);
  });

  test('a void that fails in any way is unavailable (the store reports the capture it leaves)', async () => {
    const { processor } = answering(async () => {
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    });
    await expect(processor.void('pi_1')).rejects.toThrow(PaymentUnavailableError);
  });

  test('a void answered as a capture is unavailable, never taken for a refund', async () => {
    const { processor } = answering(async () => payload({ status: 'captured', captureId: 'pi_1' }));
    await expect(processor.void('pi_1')).rejects.toThrow(PaymentUnavailableError);
  });

  test('it needs the order request payment method', () => {
    expect(answering(async () => payload({})).processor.requiresPaymentMethod).toBe(true);
  });
});
