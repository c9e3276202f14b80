import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen, readBody, send } from './http-io';

/*
 * A local stand-in for the subset of Stripe's API that `StripeCardProcessor` speaks, on
 * 127.0.0.1, for tests: PaymentIntents create (with confirm), retrieve, search, capture and
 * cancel, and refunds, with Stripe's idempotency rules and test payment methods, plus fault
 * injection that real Stripe cannot give on demand.
 *
 * Followed (docs.stripe.com):
 * - /api/authentication: `Authorization: Bearer <secret key>`; anything else is 401 and
 *   executes nothing.
 * - /api/idempotent_requests: a POST's `Idempotency-Key` stores the first result, status
 *   and body, and replays it for the same key with the same parameters, 5xx results
 *   included (`Idempotent-Replayed: true`); the same key with other parameters is a 400
 *   `idempotency_error`; a result is stored only if the endpoint started executing (not
 *   for 401 or a parameter that fails validation); a key still being executed is a 409.
 *   Keys are scoped to the account (here: to the API key). GETs ignore the header.
 * - /testing#declined-payments: `pm_card_visa` succeeds; `pm_card_chargeDeclined` is a 402
 *   `card_error` (`card_declined`, decline code `generic_decline`) and leaves the intent in
 *   `requires_payment_method`; `pm_card_authenticationRequired` needs 3-D Secure
 *   (`requires_action`).
 * - /api/payment_intents/create (`confirm=true`, `capture_method` manual or automatic),
 *   /capture, /cancel, /retrieve (`expand[]=latest_charge`: the charge with its
 *   `amount_refunded`), /search (`metadata['key']:'value'` only), and /api/refunds/create
 *   (`payment_intent`, whole amount; `charge_already_refunded` twice).
 * - /error-codes: a parameter the endpoint does not know is a 400 `parameter_unknown`
 *   naming it, executed and stored nothing.
 * - /currencies#minimum-and-maximum-charge-amounts: an amount below the currency's minimum
 *   charge is a 400 `amount_too_small` (here: 50 for usd and eur, the only minimums kept).
 *
 * Differs from real Stripe: state lives in memory; search is immediately consistent (real
 * search can lag by a minute); no partial captures or refunds, no customers, no webhooks,
 * no expiry of keys (24 h) or of authorizations (7 days); a charge exists only as the
 * expanded `latest_charge`; minimum amounts for usd and eur only, and no maximums; other
 * currencies are checked only for shape; error messages are shorter; only the parameters
 * named above are understood, so a parameter real Stripe takes but this server does not
 * (e.g. `description`, `amount_to_capture`, `limit`) is refused as unknown, unlike Stripe;
 * `expand[]` takes `latest_charge` on retrieve only; 3-D Secure cannot be completed.
 */

/** Which request a fault hits. */
export type StripeOperation = 'authorize' | 'capture' | 'cancel' | 'refund' | 'retrieve' | 'search';

/**
 * `error-*`: answer 500 (stored under the key, as Stripe stores 5xx results);
 * `hang-*`: answer only after `hangMs`, past the client's deadline. `before`: nothing is
 * executed until then; `after`: the operation takes effect at once (the money moves), and
 * only its answer is lost or late.
 */
export type StripeFault = 'error-before' | 'error-after' | 'hang-before' | 'hang-after';

export interface FaultPlan {
  readonly fault: StripeFault;
  /** @default every operation */
  readonly operation?: StripeOperation;
  /** How many matching requests it hits. @default 1 */
  readonly count?: number;
  /** @default 1000 */
  readonly hangMs?: number;
}

export interface LocalPaymentIntent {
  readonly id: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly captureMethod: 'manual' | 'automatic';
  readonly metadata: Readonly<Record<string, string>>;
  status: string;
  refunded: boolean;
  /** The charge of an authorized card (`latest_charge`). */
  readonly chargeId?: string;
}

export interface LoggedRequest {
  readonly operation: StripeOperation | 'unknown';
  readonly idempotencyKey?: string;
  readonly status: number;
  readonly replayed: boolean;
}

interface Result {
  readonly status: number;
  readonly body: unknown;
  /** False when the request failed before executing (validation): nothing is stored. */
  readonly store: boolean;
}

interface Route {
  readonly operation: StripeOperation;
  readonly run: () => Result;
}

const CANCELABLE = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture']);

export class LocalStripeServer {
  /** Starts one on 127.0.0.1, on a free port. */
  static async start(apiKey = `sk_test_local_${randomBytes(8).toString('hex')}`): Promise<LocalStripeServer> {
    const stripe = new LocalStripeServer(apiKey);
    stripe.baseUrl = await listen(stripe.server, 0, 'local Stripe');
    return stripe;
  }

  baseUrl = '';
  /** Every request answered, in order. */
  readonly requests: LoggedRequest[] = [];
  private readonly server = createServer((request, response) => {
    this.handle(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed)
        send(response, 500, { error: { type: 'api_error', message: String(error) } });
    });
  });
  private readonly paymentIntents = new Map<string, LocalPaymentIntent>();
  private readonly keys = new Map<string, { fingerprint: string; result?: Result }>();
  private readonly faults: { plan: FaultPlan; left: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(readonly apiKey: string) {}

  /** The next matching request(s) fail as `plan` says. */
  inject(plan: FaultPlan): void {
    this.faults.push({ plan, left: plan.count ?? 1 });
  }

  /** Every intent, as it stands. */
  intents(): readonly LocalPaymentIntent[] {
    return [...this.paymentIntents.values()].map((intent) => ({ ...intent }));
  }

  /** Intents whose money was taken, with whether it was given back. */
  captures(): readonly LocalPaymentIntent[] {
    return this.intents().filter((intent) => intent.status === 'succeeded');
  }

  /** Captures that kept their money. */
  kept(): readonly LocalPaymentIntent[] {
    return this.captures().filter((intent) => !intent.refunded);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    await closeServer(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = (await readBody(request)) ?? '';
    const url = new URL(request.url ?? '/', 'http://stripe.local');
    const params = new URLSearchParams(body);
    const key = header(request, 'idempotency-key');
    const log = (operation: LoggedRequest['operation'], status: number, replayed = false) =>
      this.requests.push({ operation, idempotencyKey: key, status, replayed });
    if (header(request, 'authorization') !== `Bearer ${this.apiKey}`) {
      log('unknown', 401);
      send(response, 401, stripeError(401, 'invalid_request_error', undefined, 'Invalid API Key provided.'));
      return;
    }
    const route = this.route(request.method ?? 'GET', url, params);
    if (!route) {
      log('unknown', 404);
      send(response, 404, stripeError(404, 'invalid_request_error', undefined, 'Unrecognized request URL.'));
      return;
    }
    const respond = (result: Result, replayed = false) => {
      log(route.operation, result.status, replayed);
      if (!response.destroyed)
        send(response, result.status, result.body, replayed ? { 'idempotent-replayed': 'true' } : {});
    };
    if (request.method !== 'POST' || key === undefined) {
      respond(await this.execute(route));
      return;
    }
    // Idempotency: see the header comment.
    const scoped = `${this.apiKey}\n${key}`;
    const fingerprint = `${request.method} ${url.pathname} ${[...params].sort().join('&')}`;
    const stored = this.keys.get(scoped);
    if (stored && !stored.result) {
      respond(
        stripeError(
          409,
          'idempotency_error',
          'idempotency_key_in_use',
          'Another request with this key is in progress.',
        ),
      );
      return;
    }
    if (stored && stored.fingerprint !== fingerprint) {
      respond(
        stripeError(
          400,
          'idempotency_error',
          undefined,
          'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        ),
      );
      return;
    }
    if (stored?.result) {
      respond(stored.result, true);
      return;
    }
    const entry: { fingerprint: string; result?: Result } = { fingerprint };
    this.keys.set(scoped, entry);
    const result = await this.execute(route);
    if (result.store) entry.result = result;
    else this.keys.delete(scoped);
    respond(result);
  }

  /** Runs a route through the fault planned for it, if any. */
  private async execute(route: Route): Promise<Result> {
    const planned = this.faults.find((f) => f.left > 0 && (f.plan.operation ?? route.operation) === route.operation);
    if (!planned) return route.run();
    planned.left -= 1;
    const { fault, hangMs = 1000 } = planned.plan;
    const failure = stripeError(500, 'api_error', undefined, 'An error occurred with our API (injected).');
    switch (fault) {
      case 'error-before':
        return failure;
      case 'error-after':
        route.run();
        return failure;
      case 'hang-before':
        await this.sleep(hangMs);
        return route.run();
      case 'hang-after': {
        const result = route.run();
        await this.sleep(hangMs);
        return result;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('closed'));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private route(method: string, url: URL, params: URLSearchParams): Route | undefined {
    const path = url.pathname;
    const query = url.searchParams;
    if (method === 'POST' && path === '/v1/payment_intents')
      return { operation: 'authorize', run: () => known(params, CREATE_PARAMS) ?? this.create(params) };
    if (method === 'GET' && path === '/v1/payment_intents/search') {
      return { operation: 'search', run: () => known(query, ['query']) ?? this.search(query.get('query') ?? '') };
    }
    if (method === 'POST' && path === '/v1/refunds')
      return { operation: 'refund', run: () => known(params, ['payment_intent']) ?? this.refund(params) };
    const match = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)(?:\/(capture|cancel))?$/.exec(path);
    const [, id, action] = match ?? [];
    if (id === undefined) return undefined;
    if (method === 'GET' && action === undefined)
      return { operation: 'retrieve', run: () => known(query, ['expand[]']) ?? this.retrieve(id, query) };
    if (method === 'POST' && action === 'capture')
      return { operation: 'capture', run: () => known(params, []) ?? this.capture(id) };
    if (method === 'POST' && action === 'cancel')
      return { operation: 'cancel', run: () => known(params, []) ?? this.cancel(id) };
    return undefined;
  }

  private create(params: URLSearchParams): Result {
    const amount = Number(params.get('amount'));
    const currency = params.get('currency') ?? '';
    const paymentMethod = params.get('payment_method') ?? '';
    const captureMethod = params.get('capture_method') ?? 'automatic';
    if (!Number.isInteger(amount) || amount < 1) return invalid('amount', 'amount must be a positive integer');
    if (!/^[a-z]{3}$/.test(currency)) return invalid('currency', 'currency must be a lower-case ISO code');
    const minimum = MINIMUM_CHARGE[currency] ?? 1;
    if (amount < minimum) {
      return invalid('amount', `Amount must be at least ${minimum} ${currency} (smallest unit)`, 'amount_too_small');
    }
    if (captureMethod !== 'manual' && captureMethod !== 'automatic') return invalid('capture_method', 'unknown');
    if (params.get('confirm') !== 'true') return invalid('confirm', 'the local server only creates confirmed intents');
    const outcome = TEST_PAYMENT_METHODS[paymentMethod];
    if (!outcome) return invalid('payment_method', `No such PaymentMethod: '${paymentMethod}'`, 'resource_missing');
    const metadata: Record<string, string> = {};
    for (const [name, value] of params) {
      const key = /^metadata\[(.+)\]$/.exec(name)?.[1];
      if (key !== undefined) metadata[key] = value;
    }
    const intent: LocalPaymentIntent = {
      id: `pi_${randomBytes(12).toString('hex')}`,
      amount,
      currency,
      paymentMethod,
      captureMethod,
      metadata,
      status: outcome === 'approve' ? (captureMethod === 'manual' ? 'requires_capture' : 'succeeded') : outcome,
      refunded: false,
      chargeId: outcome === 'approve' ? `ch_${randomBytes(12).toString('hex')}` : undefined,
    };
    this.paymentIntents.set(intent.id, intent);
    if (outcome === 'requires_payment_method') {
      return {
        status: 402,
        store: true,
        body: {
          error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'generic_decline',
            message: 'Your card was declined.',
            param: 'payment_method',
            payment_intent: intentJson(intent),
          },
        },
      };
    }
    return ok(intentJson(intent));
  }

  private retrieve(id: string, query: URLSearchParams): Result {
    const expand = query.getAll('expand[]');
    const unknown = expand.find((field) => field !== 'latest_charge');
    if (unknown !== undefined) return invalid('expand', `This property cannot be expanded (${unknown}).`);
    const intent = this.paymentIntents.get(id);
    if (!intent) return missing(id);
    return { ...ok(intentJson(intent, expand.includes('latest_charge'))), store: false };
  }

  private search(query: string): Result {
    const match = /^metadata\['([^']+)'\]:'([^']*)'$/.exec(query.trim());
    if (!match) return invalid('query', "the local server searches metadata['key']:'value' only");
    const [, key = '', value] = match;
    const data = [...this.paymentIntents.values()].filter((i) => i.metadata[key] === value).map((i) => intentJson(i));
    return { status: 200, store: false, body: { object: 'search_result', data, has_more: false } };
  }

  private capture(id: string): Result {
    const intent = this.paymentIntents.get(id);
    if (!intent) return missing(id);
    if (intent.status !== 'requires_capture') return unexpectedState(intent, 'capture');
    intent.status = 'succeeded';
    return ok(intentJson(intent));
  }

  private cancel(id: string): Result {
    const intent = this.paymentIntents.get(id);
    if (!intent) return missing(id);
    if (!CANCELABLE.has(intent.status)) return unexpectedState(intent, 'cancel');
    intent.status = 'canceled';
    return ok(intentJson(intent));
  }

  private refund(params: URLSearchParams): Result {
    const id = params.get('payment_intent') ?? '';
    const intent = this.paymentIntents.get(id);
    if (!intent) return missing(id);
    if (intent.status !== 'succeeded') {
      return {
        ...stripeError(
          400,
          'invalid_request_error',
          undefined,
          `PaymentIntent ${id} has no successful charge to refund.`,
        ),
        store: true,
      };
    }
    if (intent.refunded) {
      return {
        ...stripeError(400, 'invalid_request_error', 'charge_already_refunded', `${id} has already been refunded.`),
        store: true,
      };
    }
    intent.refunded = true;
    return ok({
      id: `re_${randomBytes(12).toString('hex')}`,
      object: 'refund',
      amount: intent.amount,
      payment_intent: id,
      status: 'succeeded',
    });
  }
}

/** Test payment methods: what confirming with each one does. */
const TEST_PAYMENT_METHODS: Readonly<Record<string, 'approve' | 'requires_payment_method' | 'requires_action'>> = {
  pm_card_visa: 'approve',
  pm_card_mastercard: 'approve',
  pm_card_chargeDeclined: 'requires_payment_method',
  pm_card_authenticationRequired: 'requires_action',
};

/** Minimum charge amounts, in the currency's smallest unit (docs.stripe.com/currencies). */
const MINIMUM_CHARGE: Readonly<Record<string, number>> = { usd: 50, eur: 50 };

const CREATE_PARAMS = [
  'amount',
  'currency',
  'payment_method',
  'payment_method_types[]',
  'confirm',
  'capture_method',
  'metadata[*]',
];

/** The first parameter the endpoint does not know, refused as Stripe does; undefined when all are known. */
function known(params: URLSearchParams, names: readonly string[]): Result | undefined {
  for (const name of params.keys()) {
    const isKnown = names.some((known) =>
      known.endsWith('[*]') ? name.startsWith(known.slice(0, -2)) && name.endsWith(']') : name === known,
    );
    if (!isKnown) return invalid(name, `Received unknown parameter: ${name}`, 'parameter_unknown');
  }
  return undefined;
}

function intentJson(intent: LocalPaymentIntent, expandCharge = false) {
  const charge = intent.chargeId
    ? {
        id: intent.chargeId,
        object: 'charge',
        amount: intent.amount,
        amount_captured: intent.status === 'succeeded' ? intent.amount : 0,
        amount_refunded: intent.refunded ? intent.amount : 0,
        refunded: intent.refunded,
      }
    : null;
  return {
    latest_charge: expandCharge ? charge : (charge?.id ?? null),
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_received: intent.status === 'succeeded' ? intent.amount : 0,
    currency: intent.currency,
    status: intent.status,
    capture_method: intent.captureMethod,
    payment_method: intent.paymentMethod,
    metadata: intent.metadata,
  };
}

function ok(body: unknown): Result {
  return { status: 200, body, store: true };
}

function stripeError(status: number, type: string, code: string | undefined, message: string, param?: string): Result {
  return {
    status,
    store: status >= 500,
    body: { error: { type, ...(code ? { code } : {}), message, ...(param ? { param } : {}) } },
  };
}

function invalid(param: string, message: string, code = 'parameter_invalid'): Result {
  return stripeError(400, 'invalid_request_error', code, message, param);
}

function missing(id: string): Result {
  return stripeError(404, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${id}'`, 'id');
}

function unexpectedState(intent: LocalPaymentIntent, action: string): Result {
  return {
    ...stripeError(
      400,
      'invalid_request_error',
      'payment_intent_unexpected_state',
      `You cannot ${action} this PaymentIntent because it has a status of ${intent.status}.`,
    ),
    store: true,
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
