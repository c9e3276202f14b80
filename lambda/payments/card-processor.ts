import { randomUUID } from 'node:crypto';

export interface CaptureRequest {
  /**
   * The same for every attempt of one order request (derived from the user, the client's
   * `Idempotency-Key` and the request's hash), so an attempt whose outcome was lost can be
   * found again by the next one. A processor that dedupes on it must check that what it
   * hands back still holds the money, and charge anew (under a key of its own) when it does not.
   */
  readonly idempotencyKey: string;
  /** The paying customer (the token's `sub`). */
  readonly customerId: string;
  /** The order's id: like the key, the same for every attempt of one order request. */
  readonly orderId: string;
  readonly amountCents: number;
  readonly currency: string;
  /**
   * The processor's reference to the card the customer chose (Stripe: a `pm_...` id), from
   * the order request. Processors that take real money require it (`requiresPaymentMethod`).
   */
  readonly paymentMethod?: string;
}

export type CaptureResult =
  | { readonly status: 'captured'; readonly captureId: string }
  | { readonly status: 'declined'; readonly reason: string };

/**
 * The card processor, behind an interface: the order is committed in the same
 * transaction as the ledger row of its capture, and a capture whose transaction does not
 * commit is voided. A deployment plugs in its processor's SDK here.
 */
export interface CardProcessor {
  /**
   * True when a capture cannot be made without the order's `paymentMethod`: the orders API
   * then refuses an order without one (400) before it claims the key or reserves anything.
   */
  readonly requiresPaymentMethod?: boolean;
  capture(request: CaptureRequest): Promise<CaptureResult>;
  /** Gives the money of a capture back; called when the order's transaction failed. */
  void(captureId: string): Promise<void>;
}

/**
 * The processor an order's transaction calls: `processor`, with the order request's payment
 * method added to its capture (the store builds the capture request from the priced order).
 */
export function withPaymentMethod(processor: CardProcessor, paymentMethod: string | undefined): CardProcessor {
  if (paymentMethod === undefined) return processor;
  return {
    requiresPaymentMethod: processor.requiresPaymentMethod,
    capture: (request) => processor.capture({ ...request, paymentMethod }),
    void: (captureId) => processor.void(captureId),
  };
}

/** The processor could not be reached or is not configured: nothing was charged. */
export class PaymentUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PaymentUnavailableError';
  }
}

/**
 * Whether money was taken is not known (an answer lost after a capture may have been
 * made, a refund that failed, an earlier attempt still running): never "nothing charged".
 * The order is not placed and its key stays unspent; a retry with the same key and body
 * reaches the same payment (`CaptureRequest.idempotencyKey`) and never charges twice.
 */
export class PaymentOutcomeUnknownError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PaymentOutcomeUnknownError';
  }
}

/**
 * What a deployment runs until it plugs in its processor: every capture is refused as
 * unavailable, so no order is ever confirmed without money actually being taken.
 */
export class UnconfiguredCardProcessor implements CardProcessor {
  async capture(): Promise<CaptureResult> {
    throw new PaymentUnavailableError('no card processor is configured for this deployment');
  }

  async void(): Promise<void> {}
}

export interface RecordedCapture extends CaptureRequest {
  readonly captureId: string;
  voided: boolean;
}

/**
 * The processor shipped for local use and tests: approves every capture (unless told to
 * decline a currency) and records each one, so tests can count charges. It deliberately
 * does not dedupe by idempotency key, so a double charge by the API would show.
 */
export class RecordingCardProcessor implements CardProcessor {
  readonly captures: RecordedCapture[] = [];

  constructor(private readonly options: { readonly declineCurrencies?: readonly string[] } = {}) {}

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    if (this.options.declineCurrencies?.includes(request.currency)) {
      return { status: 'declined', reason: `cards are not accepted in ${request.currency}` };
    }
    const captureId = `cap_${randomUUID()}`;
    this.captures.push({ ...request, captureId, voided: false });
    return { status: 'captured', captureId };
  }

  async void(captureId: string): Promise<void> {
    const capture = this.captures.find((entry) => entry.captureId === captureId);
    if (capture) capture.voided = true;
  }

  /** Captures that took money and kept it. */
  get charges(): readonly RecordedCapture[] {
    return this.captures.filter((capture) => !capture.voided);
  }
}
