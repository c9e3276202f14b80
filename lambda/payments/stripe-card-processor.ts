import { randomUUID } from 'node:crypto';
import {
  type CaptureRequest,
  type CaptureResult,
  type CardProcessor,
  PaymentOutcomeUnknownError,
  PaymentUnavailableError,
} from './card-processor';

export const STRIPE_API_BASE = 'https://api.stripe.com';
/** The API version the requests and answers below are written against. */
export const STRIPE_API_VERSION = '2024-06-20';

export interface StripeCardProcessorOptions {
  /** The secret key (`sk_...`); never logged, never part of an error. */
  readonly apiKey: string;
  /** @default https://api.stripe.com */
  readonly baseUrl?: string;
  /**
   * Deadline of each HTTP call. A capture makes at most `CAPTURE_MAX_CALLS` (8) calls one
   * after another, so its worst case is 8 of these: 12 s at the default, which with the
   * cold start's secret read (at most 2 s, `handler.ts`) stays under the payments
   * function's 15 s timeout (`CardPayments`). Stripe confirms a card in about a second; a
   * call that runs out is an unknown outcome, which the order's retry resolves.
   * @default 1500
   */
  readonly timeoutMs?: number;
  /** Where a capture that could not be released is reported (payment id and why, no key). */
  readonly onUnreleased?: (problem: { readonly paymentIntent: string; readonly reason: string }) => void;
}

/** Payment intents one order request may make: a second only once the first is known to hold no money. */
export const MAX_ATTEMPTS = 2;
/**
 * The most HTTP calls one capture makes, one after another: an earlier attempt found
 * released (its create replayed, then retrieved: 2), then the last attempt's create
 * replayed and retrieved, its capture lost, the intent retrieved and refunded, the refund
 * retried (6). A first attempt's worst case is 5 (authorize, capture, retrieve, refund,
 * refund retry); a lost authorization costs the authorize, a search and a cancel per hold.
 */
export const CAPTURE_MAX_CALLS = 8;

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
  /** From the expanded `latest_charge`: whether any of it was refunded; undefined when not shown. */
  readonly refunded?: boolean;
}

/** One HTTP call's answer: a body, a refusal that says what happened, or nothing known. */
type Answer =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown>; readonly replayed: boolean }
  | { readonly kind: 'refused'; readonly status: number; readonly error: StripeError; readonly replayed: boolean }
  | { readonly kind: 'unknown'; readonly reason: string; readonly replayed: boolean };

type Params = readonly (readonly [string, string])[];

/** What one attempt ended in: an answer for the order, or "holds no money, make the next". */
type AttemptOutcome = CaptureResult | 'released';

const RELEASABLE = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture']);

/** The reason stored with the order when both attempts failed and were released. */
export const ATTEMPTS_EXHAUSTED =
  'this order failed twice at the card processor and nothing is charged; place it again with a new Idempotency-Key';

/**
 * Card payments through Stripe's PaymentIntents API (form-encoded HTTPS, `Idempotency-Key`
 * on every POST).
 *
 * Authorize, then capture (`capture_method=manual`), rather than one automatic capture: an
 * authorization whose answer is lost (timeout, 5xx) holds money but takes none, and Stripe
 * releases an uncaptured authorization by itself after 7 days, whereas a lost automatic
 * capture is money taken. The one call that moves money, the capture, names an intent we
 * already know, so when its answer is lost we read the intent back (a retrieve by id is
 * consistent, unlike search) and refund or cancel it. A lost authorization is looked up by
 * the order id in its metadata and cancelled: Stripe's search can lag by seconds, so a
 * miss leaves only a hold, which the next attempt finds and captures, or which expires.
 *
 * Never two charges for one order request: the Stripe keys come from
 * `CaptureRequest.idempotencyKey`, which is the same for every attempt of one order request
 * (user, `Idempotency-Key`, body), never from the attempt. So a retry's create is a replay
 * of the first attempt's, which hands back its intent; read back by id, a capture that
 * stands is reused (the retry's order takes it), an authorization is captured, and only an
 * intent known to hold no money (cancelled, refunded, declined) or a create Stripe stored a
 * 5xx for (never captured: we capture only intents an answer named) lets the next attempt
 * make a new intent, under keys of its own (`-2`), at most `MAX_ATTEMPTS`. Whatever cannot
 * be told (a read that fails, a refund that fails, an attempt of the same request still
 * running: 409, the same request priced differently: 400 `idempotency_error`) is
 * `PaymentOutcomeUnknownError`, never "nothing charged"; the retry resolves it. This holds
 * while Stripe keeps the keys (24 h); a retry later than that is a new payment.
 */
export class StripeCardProcessor implements CardProcessor {
  readonly requiresPaymentMethod = true;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: StripeCardProcessorOptions) {
    this.baseUrl = (options.baseUrl ?? STRIPE_API_BASE).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 1500;
  }

  async capture(request: CaptureRequest): Promise<CaptureResult> {
    if (request.paymentMethod === undefined) {
      // The orders API refuses such an order first (400); reaching here is a wiring bug.
      throw new Error('a Stripe capture needs the order request paymentMethod');
    }
    const params: Params = [
      ['amount', String(request.amountCents)],
      ['currency', request.currency.toLowerCase()],
      ['payment_method', request.paymentMethod],
      ['payment_method_types[]', 'card'],
      ['confirm', 'true'],
      ['capture_method', 'manual'],
      // The order id only: the shopper's id is personal data, and Stripe's API is not in the EU.
      ['metadata[order_id]', request.orderId],
    ];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Distinct keys per call: Stripe refuses one key reused with other parameters.
      const suffix = attempt === 1 ? '' : `-${attempt}`;
      const outcome = await this.attempt(request.orderId, params, {
        authorize: `${request.idempotencyKey}-authorize${suffix}`,
        capture: `${request.idempotencyKey}-capture${suffix}`,
      });
      if (outcome !== 'released') return outcome;
    }
    // Every attempt is known to hold no money: a definite answer, stored, frees the client.
    return { status: 'declined', reason: ATTEMPTS_EXHAUSTED };
  }

  /** Refunds a capture in full; a retry, or a capture refunded already, is a no-op. */
  async void(captureId: string): Promise<void> {
    const problem = await this.refund(captureId);
    if (problem) throw unavailable(`the refund of ${captureId} failed: ${problem}`);
  }

  private async attempt(
    orderId: string,
    params: Params,
    keys: { readonly authorize: string; readonly capture: string },
  ): Promise<AttemptOutcome> {
    const authorized = await this.call('POST', '/v1/payment_intents', params, keys.authorize);
    if (authorized.kind === 'unknown') {
      // A stored 5xx replayed: that create's intent, if any, was never captured (only an
      // answer names an intent to capture), and the attempt that got it looked for holds.
      if (authorized.replayed) return 'released';
      await this.releaseHolds(orderId);
      throw unavailable(`the authorization's outcome is unknown (${authorized.reason})`);
    }
    if (authorized.kind === 'refused') {
      if (isIdempotencyConflict(authorized)) {
        throw outcomeUnknown(`an earlier attempt of this order cannot be replayed (${describe(authorized)})`);
      }
      return refusal(authorized);
    }
    let intent = intentOf(authorized.body);
    if (authorized.replayed) {
      // An earlier attempt of this order request made this intent: what holds it now?
      const current = await this.retrieve(intent.id);
      if (current.kind !== 'ok') {
        throw outcomeUnknown(`an earlier attempt's payment ${intent.id} could not be read (${current.reason})`);
      }
      intent = current.intent;
      if (intent.status === 'succeeded') {
        if (intent.refunded === false) return { status: 'captured', captureId: intent.id };
        if (intent.refunded === true) return 'released';
        throw outcomeUnknown(`Stripe did not show whether ${intent.id} was refunded`);
      }
      if (intent.status === 'canceled' || intent.status === 'requires_payment_method') return 'released';
    }
    if (intent.status === 'succeeded') return { status: 'captured', captureId: intent.id };
    if (intent.status !== 'requires_capture') {
      await this.release(intent);
      if (intent.status === 'requires_action') {
        return { status: 'declined', reason: 'the card asks for customer authentication (3-D Secure)' };
      }
      if (intent.status === 'requires_payment_method') return { status: 'declined', reason: 'the card was refused' };
      throw outcomeUnknown(`the authorization ended ${intent.status}`);
    }

    // An earlier attempt's authorization is captured under a key of its own: its capture
    // key may hold a stored 5xx, and an intent captures at most once whatever the key.
    const captureKey = authorized.replayed ? `${keys.capture}-${randomUUID()}` : keys.capture;
    const captured = await this.call('POST', `/v1/payment_intents/${intent.id}/capture`, [], captureKey);
    if (captured.kind === 'ok' && intentOf(captured.body).status === 'succeeded') {
      return { status: 'captured', captureId: intent.id };
    }
    if (captured.kind === 'refused' && (isIdempotencyConflict(captured) || isUnexpectedState(captured))) {
      // Another attempt of this order (still running) captured or cancelled it, or holds its
      // key: never refund what that attempt may be handing to the order.
      throw outcomeUnknown(`the capture of ${intent.id} met another attempt (${describe(captured)})`);
    }
    const moneyBack = await this.releaseById(intent.id);
    if (captured.kind === 'refused' && captured.error.type === 'card_error') return refusal(captured);
    const why = captured.kind === 'unknown' ? `outcome is unknown (${captured.reason})` : 'did not succeed';
    if (!moneyBack) throw outcomeUnknown(`the capture's ${why}, and ${intent.id} could not be given back`);
    throw unavailable(
      captured.kind === 'refused' ? describe(captured) : `the capture's ${why}; ${intent.id} was given back`,
    );
  }

  /** Returns undefined when the intent's money is back, else why not. */
  private async refund(paymentIntent: string): Promise<string | undefined> {
    const params: Params = [['payment_intent', paymentIntent]];
    let answer = await this.call('POST', '/v1/refunds', params, `void-${paymentIntent}`);
    // Retried once under a key of its own: under the same key Stripe would replay a stored
    // 5xx, so that retry would help only after a timeout. A new key cannot refund twice: a
    // full refund of a charge refunded already is refused (charge_already_refunded).
    if (answer.kind === 'unknown') {
      answer = await this.call('POST', '/v1/refunds', params, `void-${paymentIntent}-${randomUUID()}`);
    }
    if (answer.kind === 'ok') return undefined;
    if (answer.kind === 'refused' && answer.error.code === 'charge_already_refunded') return undefined;
    return answer.kind === 'unknown' ? answer.reason : describe(answer);
  }

  /**
   * Cancels the order's authorizations that Stripe's search shows (it can lag). Only holds:
   * a lost authorization was never captured, and an earlier attempt's capture was given
   * back before this attempt began.
   */
  private async releaseHolds(orderId: string): Promise<void> {
    const query = `metadata['order_id']:'${orderId}'`;
    const found = await this.call('GET', `/v1/payment_intents/search?query=${encodeURIComponent(query)}`);
    if (found.kind !== 'ok') {
      const reason = found.kind === 'unknown' ? found.reason : describe(found);
      this.options.onUnreleased?.({ paymentIntent: `(order ${orderId})`, reason: `search failed: ${reason}` });
      return;
    }
    const data = Array.isArray(found.body.data) ? found.body.data : [];
    for (const entry of data) {
      const intent = intentOf(entry);
      if (RELEASABLE.has(intent.status)) await this.release(intent);
    }
  }

  /** Reads an intent back and gives its money back; true when no money of it is kept. */
  private async releaseById(id: string): Promise<boolean> {
    const read = await this.retrieve(id);
    if (read.kind !== 'ok') {
      this.options.onUnreleased?.({ paymentIntent: id, reason: `retrieve failed: ${read.reason}` });
      return false;
    }
    return this.release(read.intent);
  }

  /**
   * Gives an intent's money back: a captured one is refunded, an authorized one cancelled.
   * True when none of its money is kept (a hold that could not be cancelled takes none).
   */
  private async release(intent: PaymentIntent): Promise<boolean> {
    let problem: string | undefined;
    let kept = false;
    if (intent.status === 'succeeded') {
      if (intent.refunded !== true) problem = await this.refund(intent.id);
      kept = problem !== undefined;
    } else if (RELEASABLE.has(intent.status)) {
      const cancelled = await this.call('POST', `/v1/payment_intents/${intent.id}/cancel`, [], `cancel-${intent.id}`);
      if (cancelled.kind !== 'ok') problem = cancelled.kind === 'unknown' ? cancelled.reason : describe(cancelled);
    } else if (intent.status !== 'canceled') {
      // `processing`: a capture under way; its money cannot be given back yet.
      problem = `status ${intent.status}`;
      kept = true;
    }
    if (problem) this.options.onUnreleased?.({ paymentIntent: intent.id, reason: problem });
    return !kept;
  }

  /** Reads an intent by id (consistent, unlike search), with its charge's refunds. */
  private async retrieve(
    id: string,
  ): Promise<
    { readonly kind: 'ok'; readonly intent: PaymentIntent } | { readonly kind: 'failed'; readonly reason: string }
  > {
    const read = await this.call('GET', `/v1/payment_intents/${id}?${encodeURIComponent('expand[]')}=latest_charge`);
    if (read.kind === 'ok') return { kind: 'ok', intent: intentOf(read.body) };
    return { kind: 'failed', reason: read.kind === 'unknown' ? read.reason : describe(read) };
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
    let replayed: boolean;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: params ? new URLSearchParams(params.map(([k, v]): [string, string] => [k, v])).toString() : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      replayed = response.headers.get('idempotent-replayed') === 'true';
      text = await response.text();
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        return { kind: 'unknown', reason: `no answer within ${this.timeoutMs} ms`, replayed: false };
      const cause = (error as { cause?: { code?: unknown } }).cause;
      return {
        kind: 'unknown',
        reason: `network error ${typeof cause?.code === 'string' ? cause.code : String(name)}`,
        replayed: false,
      };
    }
    // Stripe's own message for a bad key quotes part of it: never pass it on.
    if (status === 401 || status === 403) {
      throw unavailable(
        `Stripe refused the API key (HTTP ${status}): the payments secret holds a wrong or revoked key`,
      );
    }
    const body = parseJson(text);
    if (status >= 500 || body === undefined) return { kind: 'unknown', reason: `HTTP ${status} from Stripe`, replayed };
    if (status >= 400) return { kind: 'refused', status, error: (body.error ?? {}) as StripeError, replayed };
    return { kind: 'ok', body, replayed };
  }
}

/** A definite refusal of the authorization: a decline, or a payment method Stripe cannot use. */
function refusal(answer: Extract<Answer, { kind: 'refused' }>): CaptureResult {
  const { error } = answer;
  if (error.type === 'card_error') {
    // Stripe's card_error messages are written for the customer ("Your card was declined.").
    const message = (error.message ?? 'the card was declined').replace(/\.$/, '');
    const code = error.decline_code ?? error.code;
    return { status: 'declined', reason: code ? `${message} (${code})` : message };
  }
  if (error.type === 'invalid_request_error' && error.param === 'payment_method') {
    // Never Stripe's message: it quotes what the client sent, and the answer is stored.
    return { status: 'declined', reason: PAYMENT_METHOD_UNUSABLE };
  }
  if (error.code === 'amount_too_small') return { status: 'declined', reason: AMOUNT_TOO_SMALL };
  // Rate limits (429) and other refusals executed nothing.
  throw unavailable(describe(answer));
}

/** The stored reason when Stripe refused the `paymentMethod` itself (unknown, used, attached). */
export const PAYMENT_METHOD_UNUSABLE =
  'the paymentMethod cannot be used: send a new single-use pm_ id created for this payment';
export const AMOUNT_TOO_SMALL = "the total is below the card processor's minimum charge";

function isIdempotencyConflict(answer: Extract<Answer, { kind: 'refused' }>): boolean {
  return (
    answer.status === 409 || answer.error.type === 'idempotency_error' || answer.error.code === 'idempotency_key_in_use'
  );
}

function isUnexpectedState(answer: Extract<Answer, { kind: 'refused' }>): boolean {
  return answer.error.code === 'payment_intent_unexpected_state';
}

function describe(answer: Extract<Answer, { kind: 'refused' }>): string {
  return `Stripe answered HTTP ${answer.status} ${answer.error.type ?? ''}${answer.error.code ? `/${answer.error.code}` : ''}: ${answer.error.message ?? ''}`.trim();
}

function unavailable(reason: string): PaymentUnavailableError {
  return new PaymentUnavailableError(`card processor: ${reason}`);
}

function outcomeUnknown(reason: string): PaymentOutcomeUnknownError {
  return new PaymentOutcomeUnknownError(`card processor: ${reason}`);
}

function intentOf(value: unknown): PaymentIntent {
  const { id, status, latest_charge } = (value ?? {}) as { id?: unknown; status?: unknown; latest_charge?: unknown };
  if (typeof id !== 'string' || typeof status !== 'string') throw outcomeUnknown('Stripe answered no payment intent');
  const refundedCents = (latest_charge as { amount_refunded?: unknown } | null | undefined)?.amount_refunded;
  return { id, status, refunded: typeof refundedCents === 'number' ? refundedCents > 0 : undefined };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
