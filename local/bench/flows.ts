import { reportApiAnswer } from '../api-answers';
import { CROSS_REGION_TRIPS_HEADER, exchange } from '../http-io';

export const FLOW_NAMES = ['product page', 'like', 'add to cart', 'profile update', 'checkout'] as const;
export type FlowName = (typeof FLOW_NAMES)[number];

/** One HTTP request of a flow, as the shopper saw it. */
export interface Answer {
  readonly status: number;
  /**
   * Cross-region round trips the platform made for it (`x-cross-region-round-trips`); an
   * answer without them is thrown as an error, which the flow counts.
   */
  readonly trips: number;
  readonly body: any;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. @default no Authorization header */
  readonly token?: string;
  /** Sent as JSON. @default no body */
  readonly body?: unknown;
  /** Extra request headers. @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A shopper's HTTP client: every call goes through the edge, saying where the shopper is. */
export class ShopperClient {
  constructor(private readonly edgeUrl: string) {}

  async call(location: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    return request(`${this.edgeUrl}${path}`, method, {
      ...options,
      headers: { 'x-client-region': location, ...options.headers },
    });
  }
}

/** One HTTP request to any of the platform's URLs (the edge, a region's API directly). */
export async function request(url: string, method: string, options: CallOptions = {}): Promise<Answer> {
  const answer = await exchange(
    url,
    method,
    {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    options.body === undefined ? undefined : JSON.stringify(options.body),
  );
  if (!answer) throw new Error(`${method} ${url}: no answer (connection refused or broken)`);
  let body: unknown = answer.body;
  try {
    body = answer.body ? JSON.parse(answer.body) : undefined;
  } catch {
    // Not JSON (a proxy's error page): kept as text for the error report.
  }
  const servedBy = answer.headers['x-served-by-region'];
  reportApiAnswer({ method, url, status: answer.status, servedBy, body });
  const trips = answer.headers[CROSS_REGION_TRIPS_HEADER];
  if (trips === undefined)
    throw new Error(`${method} ${url}: the platform did not report its cross-region round trips`);
  return { status: answer.status, trips: Number(trips), body };
}

export interface Shopper {
  readonly location: string;
  readonly token: string;
}

export interface FlowInput {
  readonly shopper: Shopper;
  readonly client: ShopperClient;
  /** Unique per flow run, for idempotency keys. */
  readonly key: string;
  /** A catalog product with plenty of stock. */
  readonly sku: string;
  /** The product checkout buys: its stock runs out during the run, on purpose. */
  readonly checkoutSku: string;
}

export interface FlowOutcome {
  readonly answers: readonly Answer[];
  /** Why the flow failed, or undefined when every answer was one the API promises. */
  readonly error?: string;
}

type Flow = (input: FlowInput) => Promise<FlowOutcome>;

/** Requests whose status is one of `expected`, in sequence, stopping at the first that is not. */
async function sequence(
  steps: readonly (() => Promise<Answer>)[],
  expected: (answer: Answer) => boolean,
): Promise<FlowOutcome> {
  const answers: Answer[] = [];
  for (const step of steps) {
    const answer = await step();
    answers.push(answer);
    if (!expected(answer)) {
      return { answers, error: `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}` };
    }
  }
  return { answers };
}

const ok = (answer: Answer) => answer.status === 200;

/** An order either placed or refused for want of stock: both are correct answers. */
export function isOrderAnswer(answer: Answer): boolean {
  return answer.status === 201 || (answer.status === 409 && answer.body?.error?.code === 'INSUFFICIENT_STOCK');
}

/** One call of a signed-in shopper, from where they are, through the edge. */
function callAs(input: FlowInput, method: string, path: string, options: Omit<CallOptions, 'token'> = {}) {
  return input.client.call(input.shopper.location, method, path, { ...options, token: input.shopper.token });
}

/** The checkout request; sent again unchanged, it is a retry that must not charge twice. */
export function placeOrder(input: FlowInput): Promise<Answer> {
  return callAs(input, 'POST', '/api/orders', {
    headers: { 'Idempotency-Key': input.key },
    body: { lines: [{ sku: input.checkoutSku, quantity: 1 }] },
  });
}

/** What a shopper's browser does for each flow, signed in (so the edge routes by home). */
export const FLOWS: Readonly<Record<FlowName, Flow>> = {
  // The page's three calls one after another, as a page script awaiting each would.
  'product page': (input) =>
    sequence(
      [
        () => callAs(input, 'GET', `/api/products/${input.sku}`),
        () => callAs(input, 'GET', `/api/products/${input.sku}/likes`),
        () => callAs(input, 'GET', '/api/me/cart'),
      ],
      ok,
    ),
  like: (input) =>
    sequence(
      [() => callAs(input, 'POST', `/api/products/${input.sku}/likes`, { headers: { 'Idempotency-Key': input.key } })],
      ok,
    ),
  'add to cart': (input) =>
    sequence([() => callAs(input, 'POST', '/api/me/cart/items', { body: { sku: input.sku, quantity: 1 } })], ok),
  'profile update': (input) =>
    sequence([() => callAs(input, 'PUT', '/api/me/profile', { body: { displayName: `Shopper ${input.key}` } })], ok),
  checkout: (input) => sequence([() => placeOrder(input)], isOrderAnswer),
};
