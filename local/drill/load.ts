import type { LocalPlatform } from '../platform';
import { nth, required } from '../required';
import { clock, sleep } from './clock';
import { type Answer, call, isAnswer } from './http';
import type { DrillSettings } from './options';
import { type Session, type SignInAttempt, signIn } from './tokens';

/**
 * Where the drill's clients sit, per continent: regions of the published round-trip table
 * (`inter-region-rtt.json`), so the edge can route them by distance. A continent's
 * clients are spread over its regions.
 */
export const DRILL_CONTINENTS = {
  Americas: ['us-east-1'],
  Europe: ['eu-west-1', 'eu-central-1'],
  Asia: ['ap-northeast-1', 'ap-southeast-1'],
} as const;
export type Continent = keyof typeof DRILL_CONTINENTS;
export const CONTINENTS = Object.keys(DRILL_CONTINENTS) as Continent[];

/** What a client does on one request. After the return, clients only read. */
export type DrillOperation = 'like' | 'cart-add' | 'cart-read' | 'order';
const MIX: readonly DrillOperation[] = ['like', 'cart-add', 'cart-read', 'order'];

/** Why the load stopped before the drill's end. */
export type StopReason = 'request cap' | 'wall time cap';

/** One user of one jurisdiction, somewhere on a continent, sending requests through the edge. */
export interface DrillClient {
  readonly index: number;
  readonly continent: Continent;
  /** The region the client is in (its X-Client-Region). */
  readonly location: string;
  readonly jurisdiction: string;
  readonly sub: string;
  /** The ID token it sends, from its last sign-in. */
  session: Session;
  /** Requests sent so far; the next order's idempotency key. */
  seq: number;
}

/** A client signs in again once less than this share of its token's lifetime is left. */
export const REFRESH_AT_LIFETIME_LEFT = 0.5;
/** While sign-in is refused, a client tries again at most this often. */
const REFRESH_RETRY_MS = 1000;

/** One request of the load, as the client saw it. */
export interface Sample {
  readonly client: number;
  readonly op: DrillOperation;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** Set when not ok. */
  readonly kind?: string;
  /** The error body's code or message, when not ok. */
  readonly detail?: string;
  /** The HTTP status; undefined when there was no answer. */
  readonly status?: number;
  /** Whether the answer had a Retry-After header. */
  readonly retryAfter?: boolean;
  readonly routedTo: string | null;
  readonly servedBy: string | null;
  /** When the token the request carried was issued and expires (drill clock, ms). */
  readonly tokenIssuedAt: number;
  readonly tokenExpiresAt: number;
}

export interface WriteCounts {
  readonly likes: number;
  readonly cartAdds: number;
  readonly orders: number;
  readonly total: number;
}
export type WriteTally = { likes: number; cartAdds: number; orders: number };
export const emptyTally = (): WriteTally => ({ likes: 0, cartAdds: 0, orders: 0 });
export const withTotal = (tally: WriteTally): WriteCounts => ({
  ...tally,
  total: tally.likes + tally.cartAdds + tally.orders,
});

/** Per jurisdiction, what clients were told was written. */
export interface Acknowledged {
  /** serving region → likes acknowledged there (on the jurisdiction's drill SKU). */
  readonly likes: Map<string, number>;
  /** `cartKey(sub, serving region)` → cart adds of quantity 1 acknowledged there. */
  readonly cart: Map<string, number>;
  readonly orders: { id: string; sub: string }[];
}

/** The cart key of `Acknowledged`: a user and the region that served the add. */
export const cartKey = (sub: string, servedBy: string): string => `${sub}|${servedBy}`;

/** The user and serving region a cart key of `Acknowledged` is made of. */
export function cartKeyParts(key: string): [sub: string, servedBy: string] {
  const [sub, servedBy, ...rest] = key.split('|');
  if (sub === undefined || servedBy === undefined || rest.length > 0) throw new Error(`not a cart key: ${key}`);
  return [sub, servedBy];
}

/** The product every client of a jurisdiction likes, adds to its cart and orders. */
export const drillSku = (jurisdiction: string): string => `DRILL-${jurisdiction.toUpperCase()}`;

/**
 * `clientsPerContinent` clients on each continent, each signed in: client i is a user
 * of jurisdiction i mod (number of jurisdictions), in the continent's regions by turns.
 */
export async function createClients(
  platform: LocalPlatform,
  clientsPerContinent: number,
  jurisdictions: readonly string[],
  requestTimeoutMs: number,
): Promise<DrillClient[]> {
  const clients: DrillClient[] = [];
  for (const continent of CONTINENTS) {
    const locations = DRILL_CONTINENTS[continent];
    for (let i = 0; i < clientsPerContinent; i++) {
      const jurisdiction = nth(jurisdictions, i % jurisdictions.length, 'jurisdiction');
      const location = nth(locations, Math.floor(i / jurisdictions.length) % locations.length, 'location');
      const sub = `drill-${continent.toLowerCase()}-${i}`;
      const { session, status, code } = await signIn(platform.controlUrl, jurisdiction, sub, requestTimeoutMs);
      if (!session) throw new Error(`${sub} could not sign in at the ${jurisdiction} pool: ${status} ${code}`);
      clients.push({ index: clients.length, continent, location, jurisdiction, sub, session, seq: 0 });
    }
  }
  return clients;
}

export interface DrillLoadConfig {
  readonly edgeUrl: string;
  /** The platform's controls, where clients sign in again. */
  readonly controlUrl: string;
  readonly clients: readonly DrillClient[];
  readonly jurisdictions: readonly string[];
  /** The region the drill takes down. */
  readonly region: string;
  readonly settings: Pick<DrillSettings, 'rate' | 'maxRequests' | 'requestTimeoutMs'>;
  /** ms left before the wall cap stops the load. */
  readonly timeLeft: () => number;
}

/**
 * The load: every client sends one request at a time, `rate` a second, through the edge,
 * until stopped or a cap is reached. It keeps every request as a sample and every
 * acknowledged write, and notes when the region's clients are served by it again.
 */
export class DrillLoad {
  readonly samples: Sample[] = [];
  /** Every sign-in the clients tried after their first (their refreshes). */
  readonly signIns: SignInAttempt[] = [];
  readonly acknowledged: Map<string, Acknowledged>;
  readonly acknowledgedWhileDown: WriteTally = emptyTally();
  /** Per client: when it was first served by the region after the return. */
  readonly servedAgainAt = new Map<number, number>();
  sent = 0;
  /** Writes sent and not yet answered: they may yet be acknowledged. */
  inFlightWrites = 0;
  stoppedEarly: StopReason | undefined;
  /** When the region went down and came back; infinite until then. */
  downAt = Number.POSITIVE_INFINITY;
  upAt = Number.POSITIVE_INFINITY;
  private writesOpen = true;
  private stopping = false;
  private running: Promise<unknown> = Promise.resolve();
  private readonly periodMs: number;
  private readonly nextRefreshAt = new Map<number, number>();

  constructor(private readonly config: DrillLoadConfig) {
    this.periodMs = 1000 / config.settings.rate;
    this.acknowledged = new Map(
      config.jurisdictions.map((j) => [j, { likes: new Map(), cart: new Map(), orders: [] }]),
    );
  }

  start(): void {
    this.running = Promise.all(this.config.clients.map((client) => this.drive(client)));
  }

  /** Stops every client, once its request in flight is answered. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Whether a hard cap stopped the load. */
  get capped(): boolean {
    return this.stoppedEarly !== undefined;
  }

  markDown(at: number): void {
    this.downAt = at;
  }

  /** The region is back: writes stop, so convergence is measured on a fixed set of them. */
  markUp(at: number): void {
    this.upAt = at;
    this.writesOpen = false;
  }

  /** Per client, the region the edge sent its last request before `at` to. */
  lastRoutedBefore(at: number): Map<number, string> {
    const last = new Map<number, string>();
    for (const sample of this.samples)
      if (sample.start < at && sample.routedTo) last.set(sample.client, sample.routedTo);
    return last;
  }

  /** The clients whose last request before `at` the edge sent to the drill's region. */
  clientsOnRegionBefore(at: number): Set<number> {
    const last = this.lastRoutedBefore(at);
    return new Set(
      this.config.clients.filter((client) => last.get(client.index) === this.config.region).map((c) => c.index),
    );
  }

  private async drive(client: DrillClient): Promise<void> {
    const { clients } = this.config;
    // Staggered, so the clients' requests spread over each period.
    let next = clock() + (this.periodMs * client.index) / clients.length;
    while (!this.stopping) {
      await sleep(next - clock());
      if (this.stopping) break;
      const cap = this.capReached();
      if (cap) {
        this.stoppedEarly ??= cap;
        break;
      }
      const op = this.writesOpen ? nth(MIX, (client.seq + client.index) % MIX.length, 'operation') : 'cart-read';
      await this.refreshIfDue(client);
      client.seq++;
      this.sent++;
      const sample = await this.send(client, op);
      if (sample.ok && sample.routedTo === this.config.region && sample.start >= this.upAt) {
        if (!this.servedAgainAt.has(client.index)) this.servedAgainAt.set(client.index, sample.end);
      }
      next = Math.max(next + this.periodMs, clock());
    }
  }

  /**
   * Signs the client in again once less than half its token's lifetime is left, as an app
   * refreshes its tokens before they expire. A refusal (the pool's region down) leaves it
   * with the token it has; it tries again a second later.
   */
  private async refreshIfDue(client: DrillClient): Promise<void> {
    const { issuedAt, expiresAt } = client.session;
    const now = clock();
    if (now < expiresAt - (expiresAt - issuedAt) * REFRESH_AT_LIFETIME_LEFT) return;
    if (now < (this.nextRefreshAt.get(client.index) ?? 0)) return;
    const { controlUrl, settings } = this.config;
    const { session, status, code } = await signIn(
      controlUrl,
      client.jurisdiction,
      client.sub,
      settings.requestTimeoutMs,
    );
    this.signIns.push({
      jurisdiction: client.jurisdiction,
      purpose: 'refresh',
      at: now,
      granted: session !== undefined,
      status,
      ...(code ? { code } : {}),
    });
    if (session) client.session = session;
    else this.nextRefreshAt.set(client.index, clock() + REFRESH_RETRY_MS);
  }

  private capReached(): StopReason | undefined {
    if (this.sent >= this.config.settings.maxRequests) return 'request cap';
    if (this.config.timeLeft() <= 0) return 'wall time cap';
    return undefined;
  }

  /** One request: kept as a sample, and as an acknowledged write if it was a write that succeeded. */
  private async send(client: DrillClient, op: DrillOperation): Promise<Sample> {
    const write = op !== 'cart-read';
    if (write) this.inFlightWrites++;
    const start = clock();
    try {
      const answer = await call(
        `${this.config.edgeUrl}${requestPath(op, client)}`,
        requestInit(op, client),
        this.config.settings.requestTimeoutMs,
      );
      const sample = toSample(client, op, start, clock(), answer);
      this.samples.push(sample);
      if (sample.ok && write && isAnswer(answer)) this.acknowledge(client, op, start, answer);
      return sample;
    } finally {
      if (write) this.inFlightWrites--;
    }
  }

  private acknowledge(client: DrillClient, op: DrillOperation, start: number, answer: Answer): void {
    const acks = required(this.acknowledged, client.jurisdiction, 'acknowledged writes for jurisdiction');
    // The region whose functions took the write; `unknown` is never found, so counts as lost.
    const servedBy = answer.servedBy ?? answer.routedTo ?? 'unknown';
    const whileDown = start >= this.downAt && start < this.upAt;
    if (op === 'like') {
      addTo(acks.likes, servedBy);
      if (whileDown) this.acknowledgedWhileDown.likes++;
    } else if (op === 'cart-add') {
      addTo(acks.cart, cartKey(client.sub, servedBy));
      if (whileDown) this.acknowledgedWhileDown.cartAdds++;
    } else {
      acks.orders.push({ id: String(answer.body?.id), sub: client.sub });
      if (whileDown) this.acknowledgedWhileDown.orders++;
    }
  }
}

const addTo = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

function requestPath(op: DrillOperation, client: DrillClient): string {
  if (op === 'like') return `/api/products/${drillSku(client.jurisdiction)}/likes`;
  if (op === 'cart-add') return '/api/me/cart/items';
  if (op === 'order') return '/api/orders';
  return '/api/me/cart';
}

function requestInit(op: DrillOperation, client: DrillClient) {
  const sku = drillSku(client.jurisdiction);
  const headers = { 'x-client-region': client.location, authorization: `Bearer ${client.session.token}` };
  if (op === 'like') return { method: 'POST', headers };
  if (op === 'cart-add') return { method: 'POST', headers, body: { sku, quantity: 1 } };
  if (op === 'order') {
    return {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': `${client.sub}-${client.seq}` },
      body: { lines: [{ sku, quantity: 1 }] },
    };
  }
  return { method: 'GET', headers };
}

function toSample(
  client: DrillClient,
  op: DrillOperation,
  start: number,
  end: number,
  answer: Awaited<ReturnType<typeof call>>,
): Sample {
  const token = { tokenIssuedAt: client.session.issuedAt, tokenExpiresAt: client.session.expiresAt };
  if (!isAnswer(answer)) {
    return {
      client: client.index,
      op,
      start,
      end,
      ok: false,
      kind: answer.kind,
      routedTo: null,
      servedBy: null,
      ...token,
    };
  }
  const ok = answer.status >= 200 && answer.status < 300;
  const retryAfter = answer.retryAfter !== null;
  const kind = errorKind(answer.status, answer.body, retryAfter, end >= token.tokenExpiresAt);
  return {
    client: client.index,
    op,
    start,
    end,
    ok,
    ...(ok ? {} : { kind, detail: errorDetail(answer.body) }),
    status: answer.status,
    retryAfter,
    routedTo: answer.routedTo,
    servedBy: answer.servedBy,
    ...token,
  };
}

/**
 * An error answer's kind: `HTTP <status>`; a 503 that names its error code (the documented
 * read-only answer, `HTTP 503 STRONG_STORE_UNAVAILABLE`) apart from a region's bare 503,
 * and flagged when it lacks its Retry-After; a 401/403 to a token that had expired by the
 * answer, `HTTP 403 token expired`.
 */
export function errorKind(status: number, body: any, retryAfter: boolean, tokenExpired: boolean): string {
  if ((status === 401 || status === 403) && tokenExpired) return `HTTP ${status} token expired`;
  const code = body?.error?.code;
  if (status === 503 && typeof code === 'string') return `HTTP 503 ${code}${retryAfter ? '' : ' without Retry-After'}`;
  return `HTTP ${status}`;
}

/** An error answer's `error.code`, or its `message`, or the start of its text. */
function errorDetail(body: any): string {
  const detail = body?.error?.code ?? body?.message ?? (typeof body === 'string' ? body : JSON.stringify(body));
  return String(detail).slice(0, 80);
}
