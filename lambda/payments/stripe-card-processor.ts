import { type CaptureRequest, type CaptureResult, type CardProcessor, PaymentUnavailableError } from './card-processor';

export const STRIPE_API_BASE = 'https://api.stripe.com';
/** The API version the requests and answers below are written against. */
export const STRIPE_API_VERSION = '2024-06-20';

export interface StripeCardProcessorOptions {
  /** The secret key (`sk_...`); never logged, never part of an error. */
  readonly apiKey: string;
  /** @default https://api.stripe.com */
  readonly baseUrl?: string;
  /**
   * Deadline of each HTTP call. A capture makes two calls when all goes well and at most
   * four when it must clean up, so the payments function's own timeout must exceed four
   * of these (`CardPayments` sets it). Stripe confirms a card in about a second.
   * @default 3000
   */
  readonly timeoutMs?: number;
  /** Where a capture that could not be released is reported (payment id and why, no key). */
  readonly onUnreleased?: (problem: { readonly paymentIntent: string; readonly reason: string }) => void;
}

interface StripeError {
  readonly type?: string;
  readonly code?: string;
  readonly decline_code?: string;
  readonly message?: string;
  readonly param?: string;
}

interface PaymentIntent {
  readonly id: string;
  readonly status: string;
}

/** One HTTP call's answer: a body, a refusal that says what happened, or nothing known. */
type Answer =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown> }
  | { readonly kind: 'refused'; readonly status: number; readonly error: StripeError }
  | { readonly kind: 'unknown'; readonly reason: string };

type Params = readonly (readonly [string, string])[];

const RELEASABLE = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture']);

/**
 * Card payments through Stripe's PaymentIntents API (form-encoded HTTPS, `Idempotency-Key`
 * on every POST), one intent per order attempt.
 *
 * Authorize, then capture (`capture_method=manual`), rather than one automatic capture: an
 * authorization whose answer is lost (timeout, 5xx) holds money but takes none, and Stripe
 * releases an uncaptured authorization by itself after 7 days, whereas a lost automatic
 * capture is money taken. The one call that moves money, the capture, names an intent we
 * already know, so when its answer is lost we read the intent back (a retrieve by id is
 * consistent, unlike search) and refund or cancel it. A lost authorization is looked up by
 * the order id in its metadata and cancelled: Stripe's search can lag by seconds, and a
 * retry of the same create replays a stored 5xx, so a miss leaves only a hold that expires.
 * Either way the order answers unavailable (503) with no money kept, and the next attempt
 * is a new intent under new keys.
 */
export class StripeCardProcessor implements CardProcessor {
  readonly requiresPaymentMethod = true;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: StripeCardProcessorOptions) {
    this.baseUrl = (options.baseUrl ?? STRIPE_API_BASE).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    if (request.paymentMethod === undefined) {
      // The orders API refuses such an order first (400); reaching here is a wiring bug.
      throw new Error('a Stripe capture needs the order request paymentMethod');
    }
    // Distinct keys per call: Stripe refuses one key reused with other parameters.
    const authorized = await this.call(
      'POST',
      '/v1/payment_intents',
      [
        ['amount', String(request.amountCents)],
        ['currency', request.currency.toLowerCase()],
        ['payment_method', request.paymentMethod],
        ['payment_method_types[]', 'card'],
        ['confirm', 'true'],
        ['capture_method', 'manual'],
        // The order id only: the shopper's id is personal data, and Stripe's API is not in the EU.
        ['metadata[order_id]', request.orderId],
      ],
      `${request.idempotencyKey}-authorize`,
    );
    if (authorized.kind === 'unknown') {
      await this.releaseOrder(request.orderId);
      throw unavailable(`the authorization's outcome is unknown (${authorized.reason})`);
    }
    if (authorized.kind === 'refused') return refusal(authorized);
    const intent = intentOf(authorized.body);
    if (intent.status === 'succeeded') return { status: 'captured', captureId: intent.id };
    if (intent.status !== 'requires_capture') {
      await this.release(intent);
      if (intent.status === 'requires_action') {
        return { status: 'declined', reason: 'the card asks for customer authentication (3-D Secure)' };
      }
      if (intent.status === 'requires_payment_method') return { status: 'declined', reason: 'the card was refused' };
      throw unavailable(`the authorization ended ${intent.status}`);
    }

    const captured = await this.call(
      'POST',
      `/v1/payment_intents/${intent.id}/capture`,
      [],
      `${request.idempotencyKey}-capture`,
    );
    if (captured.kind === 'ok' && intentOf(captured.body).status === 'succeeded') {
      return { status: 'captured', captureId: intent.id };
    }
    await this.releaseById(intent.id);
    if (captured.kind === 'refused' && captured.error.type === 'card_error') return refusal(captured);
    if (captured.kind === 'unknown') throw unavailable(`the capture's outcome is unknown (${captured.reason})`);
    throw unavailable(captured.kind === 'refused' ? describe(captured) : 'the capture did not succeed');
  }

  /** Refunds a capture in full; a retry, or a capture refunded already, is a no-op. */
  async void(captureId: string): Promise<void> {
    const problem = await this.refund(captureId);
    if (problem) throw unavailable(`the refund of ${captureId} failed: ${problem}`);
  }

  /** Returns undefined when the intent's money is back, else why not. */
  private async refund(paymentIntent: string): Promise<string | undefined> {
    const params: Params = [['payment_intent', paymentIntent]];
    let answer = await this.call('POST', '/v1/refunds', params, `void-${paymentIntent}`);
    // One retry under the same key: Stripe applies it at most once.
    if (answer.kind === 'unknown') answer = await this.call('POST', '/v1/refunds', params, `void-${paymentIntent}`);
    if (answer.kind === 'ok') return undefined;
    if (answer.kind === 'refused' && answer.error.code === 'charge_already_refunded') return undefined;
    return answer.kind === 'unknown' ? answer.reason : describe(answer);
  }

  /** Cancels or refunds every intent of the order (search by metadata), as far as Stripe shows them. */
  private async releaseOrder(orderId: string): Promise<void> {
    const query = `metadata['order_id']:'${orderId}'`;
    const found = await this.call('GET', `/v1/payment_intents/search?query=${encodeURIComponent(query)}`);
    if (found.kind !== 'ok') {
      const reason = found.kind === 'unknown' ? found.reason : describe(found);
      this.options.onUnreleased?.({ paymentIntent: `(order ${orderId})`, reason: `search failed: ${reason}` });
      return;
    }
    const data = Array.isArray(found.body.data) ? found.body.data : [];
    for (const entry of data) await this.release(intentOf(entry));
  }

  private async releaseById(id: string): Promise<void> {
    const read = await this.call('GET', `/v1/payment_intents/${id}`);
    if (read.kind !== 'ok') {
      const reason = read.kind === 'unknown' ? read.reason : describe(read);
      this.options.onUnreleased?.({ paymentIntent: id, reason: `retrieve failed: ${reason}` });
      return;
    }
    await this.release(intentOf(read.body));
  }

  /** Gives an intent's money back: a captured one is refunded, an authorized one cancelled. */
  private async release(intent: PaymentIntent): Promise<void> {
    let problem: string | undefined;
    if (intent.status === 'succeeded') problem = await this.refund(intent.id);
    else if (RELEASABLE.has(intent.status)) {
      const cancelled = await this.call('POST', `/v1/payment_intents/${intent.id}/cancel`, [], `cancel-${intent.id}`);
      if (cancelled.kind !== 'ok') problem = cancelled.kind === 'unknown' ? cancelled.reason : describe(cancelled);
    }
    if (problem) this.options.onUnreleased?.({ paymentIntent: intent.id, reason: problem });
  }

  private async call(method: 'GET' | 'POST', path: string, params?: Params, idempotencyKey?: string): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.apiKey}`,
      'stripe-version': STRIPE_API_VERSION,
    };
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: params ? new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString() : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        return { kind: 'unknown', reason: `no answer within ${this.timeoutMs} ms` };
      const cause = (error as { cause?: { code?: unknown } }).cause;
      return {
        kind: 'unknown',
        reason: `network error ${typeof cause?.code === 'string' ? cause.code : String(name)}`,
      };
    }
    // Stripe's own message for a bad key quotes part of it: never pass it on.
    if (status === 401 || status === 403) {
      throw unavailable(
        `Stripe refused the API key (HTTP ${status}): the payments secret holds a wrong or revoked key`,
      );
    }
    const body = parseJson(text);
    if (status >= 500 || body === undefined) return { kind: 'unknown', reason: `HTTP ${status} from Stripe` };
    if (status >= 400) return { kind: 'refused', status, error: (body.error ?? {}) as StripeError };
    return { kind: 'ok', body };
  }
}

/** A definite refusal of the authorization: a decline, or a payment method Stripe cannot use. */
function refusal(answer: Extract<Answer, { kind: 'refused' }>): CaptureResult {
  const { error } = answer;
  if (error.type === 'card_error' || error.param === 'payment_method') {
    const message = (error.message ?? 'the card was declined').replace(/\.$/, '');
    const code = error.decline_code ?? error.code;
    return { status: 'declined', reason: code ? `${message} (${code})` : message };
  }
  // Rate limits (429) and idempotency conflicts (409) executed nothing.
  throw unavailable(describe(answer));
}

function describe(answer: Extract<Answer, { kind: 'refused' }>): string {
  return `Stripe answered HTTP ${answer.status} ${answer.error.type ?? ''}${answer.error.code ? `/${answer.error.code}` : ''}: ${answer.error.message ?? ''}`.trim();
}

function unavailable(reason: string): PaymentUnavailableError {
  return new PaymentUnavailableError(`card processor: ${reason}`);
}

function intentOf(value: unknown): PaymentIntent {
  const { id, status } = (value ?? {}) as { id?: unknown; status?: unknown };
  if (typeof id !== 'string' || typeof status !== 'string') throw unavailable('Stripe answered no payment intent');
  return { id, status };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
