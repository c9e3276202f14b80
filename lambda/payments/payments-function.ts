import { type CardProcessor, PaymentOutcomeUnknownError, PaymentUnavailableError } from './card-processor';
import { type PaymentsResult, paymentsEventSchema } from './payments-protocol';

export interface PaymentsFunctionDependencies {
  /** The processor, made once per cold start (it reads the API key); a failure is retried next call. */
  readonly processor: () => Promise<CardProcessor>;
  readonly log: {
    warn(message: string, details: Record<string, unknown>): void;
    error(message: string, details: Record<string, unknown>): void;
  };
}

/**
 * The payments function: the one function that reaches the card processor over the
 * internet. It captures or voids as asked and answers JSON; a processor it cannot reach is
 * `{ error: 'unavailable' }`, a payment whose outcome it cannot tell `{ error:
 * 'outcome-unknown' }`, which the orders function turns back into their own 503s.
 */
export function createPaymentsHandler(deps: PaymentsFunctionDependencies): (event: unknown) => Promise<PaymentsResult> {
  return async (event) => {
    const parsed = paymentsEventSchema.safeParse(event);
    if (!parsed.success) {
      const [issue] = parsed.error.issues;
      const reason = `the event is not a capture or void: ${issue ? `${issue.path.join('.') || 'event'} ${issue.message}` : 'invalid'}`;
      deps.log.error('payments event refused', { reason });
      return { error: 'invalid', reason };
    }
    try {
      const processor = await deps.processor();
      if (parsed.data.action === 'void') {
        await processor.void(parsed.data.captureId);
        return { status: 'voided' };
      }
      return await processor.capture(parsed.data.request);
    } catch (error) {
      if (error instanceof PaymentOutcomeUnknownError) {
        deps.log.error('payment outcome unknown', { action: parsed.data.action, reason: error.message });
        return { error: 'outcome-unknown', reason: error.message };
      }
      if (!(error instanceof PaymentUnavailableError)) throw error;
      deps.log.warn('card processor unavailable', { action: parsed.data.action, reason: error.message });
      return { error: 'unavailable', reason: error.message };
    }
  };
}
