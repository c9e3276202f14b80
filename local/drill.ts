import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EventualStore } from '../lambda/stores/eventual-store';
import { DEPLOYMENT_MODELS, type DeploymentModel, resolveTopology, type Topology } from '../lib/config/topology';
import { type LocalPlatform, type LocalRegionHandle, startLocalPlatform } from './platform';
import { canonicalJson } from './replicator';

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

export interface RegionDrillOptions {
  /** The serving region taken down. @default 'eu-west-1' */
  readonly region?: string;
  /** The topology; its deployment model unless `model` is given. @default the default topology */
  readonly topology?: Topology;
  /** Overrides the topology's deployment model. */
  readonly model?: DeploymentModel;
  /** How long the region stays down, in ms. @default 5000 */
  readonly downMs?: number;
  /** Load before the region goes down, to see which region serves each client, in ms. @default 1500 */
  readonly warmupMs?: number;
  /**
   * Clients per continent. Client i is a user of jurisdiction i mod (number of
   * jurisdictions), so every continent has users of every jurisdiction, and the
   * continent's regions (`DRILL_CONTINENTS`) take turns as where they are. @default 4
   */
  readonly clientsPerContinent?: number;
  /**
   * Requests per second each client sends (one at a time, never overlapping). The whole
   * platform runs in one Node.js process, so the default keeps the total near 25/s.
   * @default 2
   */
  readonly rate?: number;
  /** Hard cap on the clients' requests in total. @default 2000 */
  readonly maxRequests?: number;
  /** Hard cap on the whole drill, platform start and stop included, in ms. @default 50000 */
  readonly maxWallMs?: number;
  /** The edge's health-check interval, in ms. @default 200 */
  readonly healthIntervalMs?: number;
  /** Failed (or passed) checks in a row that mark a region unhealthy (or healthy). @default 2 */
  readonly healthFailureThreshold?: number;
  /** Replication delay between a jurisdiction's regions, in ms. @default 300 */
  readonly replicationDelayMs?: number;
  /** Multiplies the published inter-region round trips. @default 0.1 */
  readonly distanceScale?: number;
  /** Longest wait for any one client request, in ms. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Longest wait, after the return, for the region's clients to be served by it again, in ms. @default 5000 */
  readonly returnTimeoutMs?: number;
  /** Longest wait, after the return, for every region to agree on the written data, in ms. @default 15000 */
  readonly convergeTimeoutMs?: number;
  /** Progress lines (platform started, region down, ...). */
  readonly onProgress?: (line: string) => void;
}

export const DRILL_DEFAULTS = {
  region: 'eu-west-1',
  downMs: 5000,
  warmupMs: 1500,
  clientsPerContinent: 4,
  rate: 2,
  maxRequests: 2000,
  maxWallMs: 50_000,
  healthIntervalMs: 200,
  healthFailureThreshold: 2,
  replicationDelayMs: 300,
  distanceScale: 0.1,
  requestTimeoutMs: 5000,
  returnTimeoutMs: 5000,
  convergeTimeoutMs: 15_000,
} as const;

/** A bad option: `field` is the option's name, `detail` what it allows. */
export class DrillOptionsError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field} ${detail}`);
    this.name = 'DrillOptionsError';
  }
}

/** What a client does on one request. After the return, clients only read. */
export type DrillOperation = 'like' | 'cart-add' | 'cart-read' | 'order';
const MIX: readonly DrillOperation[] = ['like', 'cart-add', 'cart-read', 'order'];

/**
 * Error kinds a region switch is expected to cause: the downed region's 503 until the
 * edge notices, a strong write forwarded to a downed primary (503), an unreachable
 * upstream (502, 504), a refused or reset connection, a timeout. Anything else (a 4xx,
 * a 500) is a fault and counted as unexpected.
 */
export function isSwitchErrorKind(kind: string): boolean {
  return /^HTTP 50[234]$/.test(kind) || kind.startsWith('connection ') || kind === 'timeout';
}

export interface ContinentFailover {
  readonly continent: Continent;
  /** Clients of this continent the edge was sending to the region just before it went down. */
  readonly clientsOnRegion: number;
  /** From the down until the first of them got a success from another region. */
  readonly firstServedElsewhereAfterSeconds: number | null;
  /** From the down until every one of them had got a success from another region. */
  readonly servedElsewhereAfterSeconds: number | null;
  /** The regions that served them meanwhile. */
  readonly servedElsewhereBy: readonly string[];
  /** From the return until every one of them was served by the region again. */
  readonly servedAgainAfterSeconds: number | null;
}

export interface WriteCounts {
  readonly likes: number;
  readonly cartAdds: number;
  readonly orders: number;
  readonly total: number;
}

export interface RegionDrillResult {
  readonly region: string;
  readonly jurisdiction: string;
  readonly deploymentModel: DeploymentModel;
  /** Whether the downed region holds its jurisdiction's primary (strong writes stop while it is down). */
  readonly regionIsPrimary: boolean;
  readonly settings: {
    readonly clients: number;
    readonly clientsPerContinent: number;
    readonly ratePerClient: number;
    readonly warmupMs: number;
    readonly downMs: number;
    readonly healthIntervalMs: number;
    readonly healthFailureThreshold: number;
    readonly replicationDelayMs: number;
    readonly distanceScale: number;
    readonly maxRequests: number;
    readonly maxWallMs: number;
  };
  /** Every client: where it is, whose user it is, and the region the edge sent it to before the down. */
  readonly clients: readonly {
    readonly continent: Continent;
    readonly location: string;
    readonly jurisdiction: string;
    readonly regionBeforeDown: string | null;
  }[];
  readonly failover: {
    readonly continents: readonly ContinentFailover[];
    /** The slowest continent's figure; null if no client was on the region, or one never moved. */
    readonly servedElsewhereAfterSeconds: number | null;
    /** Every client that was on the region got a success elsewhere while it was down. */
    readonly allServedElsewhere: boolean;
    /** From the down until the edge's health checks marked the region unhealthy (polled every 50 ms). */
    readonly edgeMarkedUnhealthyAfterSeconds: number | null;
    /** From the return until the edge marked it healthy again. */
    readonly edgeMarkedHealthyAfterSeconds: number | null;
  };
  readonly errors: {
    /** Errors answered from the down until the load ended: the switch away and back. */
    readonly duringSwitch: number;
    readonly byKind: Readonly<Record<string, number>>;
    readonly byOperation: Readonly<Partial<Record<DrillOperation, number>>>;
    /** Errors of a kind a switch does not explain (see `isSwitchErrorKind`), over the whole drill. */
    readonly unexpected: number;
    /** Errors before the down (none expected). */
    readonly beforeDown: number;
    /** Every error of the drill by kind and the answer's error code or message, for diagnosis. */
    readonly byDetail: Readonly<Record<string, number>>;
  };
  readonly writes: {
    readonly acknowledged: WriteCounts;
    readonly acknowledgedWhileDown: WriteCounts;
    /**
     * Acknowledged writes missing from at least one region of their jurisdiction after
     * convergence (or its timeout); an order the wall cap left unchecked counts as missing.
     */
    readonly lost: WriteCounts;
    /** The regions read back, per jurisdiction. */
    readonly checkedRegions: Readonly<Record<string, readonly string[]>>;
  };
  /** Same as `writes.lost.total`: must be 0. */
  readonly lostAcknowledgedWrites: number;
  readonly convergence: {
    /** Every jurisdiction's regions agreed on the drill's data, which held every acknowledged write. */
    readonly converged: boolean;
    /** From the return until the downed region's jurisdiction agreed (writes stop at the return). */
    readonly afterSeconds: number | null;
    readonly byJurisdiction: Readonly<Record<string, number | null>>;
    /** Writes the replicators had seen but not yet delivered everywhere when the region returned. */
    readonly replicationBacklogAtReturn: Readonly<Record<string, number>>;
  };
  readonly requests: {
    readonly sent: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly achievedRatePerSecond: number;
    /** Round trip of the successful requests, through the edge, in ms. */
    readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
  };
  /** Set when a hard cap stopped the load before the drill's end. */
  readonly stoppedEarly?: 'request cap' | 'wall time cap';
  readonly timeline: {
    readonly platformStartSeconds: number;
    readonly downAtSeconds: number;
    readonly upAtSeconds: number;
    readonly loadEndedAtSeconds: number;
    readonly wallSeconds: number;
  };
}

interface Settings {
  readonly topology: Topology;
  readonly region: string;
  readonly downMs: number;
  readonly warmupMs: number;
  readonly clientsPerContinent: number;
  readonly rate: number;
  readonly maxRequests: number;
  readonly maxWallMs: number;
  readonly healthIntervalMs: number;
  readonly healthFailureThreshold: number;
  readonly replicationDelayMs: number;
  readonly distanceScale: number;
  readonly requestTimeoutMs: number;
  readonly returnTimeoutMs: number;
  readonly convergeTimeoutMs: number;
}

const KNOWN_OPTIONS = new Set([...Object.keys(DRILL_DEFAULTS), 'topology', 'model', 'onProgress']);

function checkNumber(
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  integer: boolean,
  what = 'ms',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new DrillOptionsError(
      field,
      `must be ${integer ? 'a whole number' : 'a number'} (${what}) from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  if (value < min || value > max) {
    throw new DrillOptionsError(field, `must be from ${min} to ${max} (${what}), got ${value}`);
  }
  return value;
}

/** Checks every option and fills the defaults; throws DrillOptionsError naming the first bad field. */
export function resolveDrillOptions(options: RegionDrillOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new DrillOptionsError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new DrillOptionsError(key, `is not a drill option; known: ${[...KNOWN_OPTIONS].sort().join(', ')}`);
    }
  }
  if (options.model !== undefined && !DEPLOYMENT_MODELS.includes(options.model)) {
    throw new DrillOptionsError(
      'model',
      `must be one of ${DEPLOYMENT_MODELS.join(', ')}, got ${JSON.stringify(options.model)}`,
    );
  }
  let topology = options.topology ?? resolveTopology({}, 'drill defaults');
  if (options.model !== undefined && options.model !== topology.deploymentModel) {
    topology = resolveTopology({ ...topology.config, deploymentModel: options.model }, 'drill model');
  }
  const region = options.region ?? DRILL_DEFAULTS.region;
  if (typeof region !== 'string' || !topology.servingRegions.includes(region as never)) {
    throw new DrillOptionsError(
      'region',
      `must be a serving region of the topology (${topology.servingRegions.join(', ')}), got ${JSON.stringify(region)}`,
    );
  }
  const jurisdiction = topology.jurisdictionOf(region);
  if (jurisdiction.regions.length < 2) {
    throw new DrillOptionsError(
      'region',
      `${region} is the only region of jurisdiction "${jurisdiction.name}": its clients have nowhere to go`,
    );
  }
  const healthIntervalMs = checkNumber(
    'healthIntervalMs',
    options.healthIntervalMs,
    DRILL_DEFAULTS.healthIntervalMs,
    50,
    10_000,
    true,
  );
  const healthFailureThreshold = checkNumber(
    'healthFailureThreshold',
    options.healthFailureThreshold,
    DRILL_DEFAULTS.healthFailureThreshold,
    1,
    10,
    true,
    'checks',
  );
  const rate = checkNumber('rate', options.rate, DRILL_DEFAULTS.rate, 0.5, 50, false, 'requests per second per client');
  const minDown = healthIntervalMs * (healthFailureThreshold + 2);
  const downMs = checkNumber('downMs', options.downMs, DRILL_DEFAULTS.downMs, minDown, 60_000, true);
  const minWarmup = Math.ceil(2000 / rate);
  const warmupMs = checkNumber('warmupMs', options.warmupMs, DRILL_DEFAULTS.warmupMs, minWarmup, 60_000, true);
  const settings: Settings = {
    topology,
    region,
    downMs,
    warmupMs,
    clientsPerContinent: checkNumber(
      'clientsPerContinent',
      options.clientsPerContinent,
      DRILL_DEFAULTS.clientsPerContinent,
      1,
      50,
      true,
      'clients',
    ),
    rate,
    // Capped so that one user's cart line stays under the API's 999 per SKU.
    maxRequests: checkNumber(
      'maxRequests',
      options.maxRequests,
      DRILL_DEFAULTS.maxRequests,
      1,
      10_000,
      true,
      'requests',
    ),
    maxWallMs: checkNumber('maxWallMs', options.maxWallMs, DRILL_DEFAULTS.maxWallMs, 10_000, 600_000, true),
    healthIntervalMs,
    healthFailureThreshold,
    replicationDelayMs: checkNumber(
      'replicationDelayMs',
      options.replicationDelayMs,
      DRILL_DEFAULTS.replicationDelayMs,
      0,
      10_000,
      true,
    ),
    distanceScale: checkNumber(
      'distanceScale',
      options.distanceScale,
      DRILL_DEFAULTS.distanceScale,
      0,
      10,
      false,
      'times the published round trips',
    ),
    requestTimeoutMs: checkNumber(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DRILL_DEFAULTS.requestTimeoutMs,
      100,
      60_000,
      true,
    ),
    returnTimeoutMs: checkNumber(
      'returnTimeoutMs',
      options.returnTimeoutMs,
      DRILL_DEFAULTS.returnTimeoutMs,
      0,
      60_000,
      true,
    ),
    convergeTimeoutMs: checkNumber(
      'convergeTimeoutMs',
      options.convergeTimeoutMs,
      DRILL_DEFAULTS.convergeTimeoutMs,
      100,
      120_000,
      true,
    ),
  };
  if (settings.warmupMs + settings.downMs >= settings.maxWallMs) {
    throw new DrillOptionsError(
      'maxWallMs',
      `must leave room for warmupMs + downMs (${settings.warmupMs + settings.downMs} ms) and the platform's start, got ${settings.maxWallMs}`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new DrillOptionsError('onProgress', 'must be a function');
  }
  return settings;
}

interface DrillClient {
  readonly index: number;
  readonly continent: Continent;
  /** The region the client is in (its X-Client-Region). */
  readonly location: string;
  readonly jurisdiction: string;
  readonly sub: string;
  token: string;
  seq: number;
}

interface Sample {
  readonly client: number;
  readonly op: DrillOperation;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** Set when not ok. */
  readonly kind?: string;
  /** The error body's code or message, when not ok. */
  readonly detail?: string;
  readonly routedTo: string | null;
  readonly servedBy: string | null;
}

interface Answer {
  readonly status: number;
  readonly routedTo: string | null;
  readonly servedBy: string | null;
  readonly body: any;
}

/** The monotonic clock, in ms. */
const clock = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const seconds = (ms: number) => Math.round(ms) / 1000;
/** Time left before the platform must be stopped to keep within the wall cap. */
const STOP_RESERVE_MS = 5000;

/** One HTTP call; a failure to get any answer comes back as an error kind instead. */
async function call(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown },
  timeoutMs: number,
): Promise<Answer | { kind: string }> {
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: kept as text.
    }
    return {
      status: response.status,
      routedTo: response.headers.get('x-edge-routed-to'),
      servedBy: response.headers.get('x-served-by-region'),
      body,
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'timeout' };
    // ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...: one word, so kinds group.
    return { kind: `connection ${e.cause?.code ?? 'failed'}` };
  }
}

/** The platform's dev controls, over HTTP like any local tool. */
async function control(platform: LocalPlatform, method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(`${platform.controlUrl}${path}`, { method, body }, 10_000);
  if (!('status' in answer) || answer.status !== 200) {
    throw new Error(`control ${method} ${path} failed: ${JSON.stringify(answer)}`);
  }
  return answer.body;
}

/** Retries `check` until it returns true or `timeoutMs` runs out; returns whether it passed. */
async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = clock() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (clock() >= deadline) return false;
    await sleep(Math.min(everyMs, deadline - clock()));
  }
}

/** An error answer's `error.code`, or its `message`, or the start of its text. */
function errorDetail(body: any): string {
  const detail = body?.error?.code ?? body?.message ?? (typeof body === 'string' ? body : JSON.stringify(body));
  return String(detail).slice(0, 80);
}

const skuOf = (jurisdiction: string) => `DRILL-${jurisdiction.toUpperCase()}`;
const add = (counts: Map<string, number>, key: string, by = 1) => counts.set(key, (counts.get(key) ?? 0) + by);
const emptyCounts = (): { likes: number; cartAdds: number; orders: number } => ({ likes: 0, cartAdds: 0, orders: 0 });
const total = (c: { likes: number; cartAdds: number; orders: number }): WriteCounts => ({
  ...c,
  total: c.likes + c.cartAdds + c.orders,
});

/** Per jurisdiction, what clients were told was written. */
export interface Acknowledged {
  /** serving region → likes acknowledged there (on the jurisdiction's drill SKU). */
  readonly likes: Map<string, number>;
  /** `${sub}|${serving region}` → cart adds of quantity 1 acknowledged there. */
  readonly cart: Map<string, number>;
  readonly orders: { id: string; sub: string; token: string }[];
}

/**
 * Acknowledged likes and cart adds that some replica does not hold: for each serving
 * region (and user), what was acknowledged there minus the fewest any replica shows. A
 * write is only kept if every region of the jurisdiction has it.
 * @throws when there is no replica to read, which would make every write look kept
 */
export function missingEventualWrites(
  acks: Pick<Acknowledged, 'likes' | 'cart'>,
  views: readonly ReplicaView[],
): { likes: number; cartAdds: number } {
  if (views.length === 0) throw new Error('missingEventualWrites: no replica was read back');
  const fewest = (held: (view: ReplicaView) => number) => Math.min(...views.map(held));
  let likes = 0;
  let cartAdds = 0;
  for (const [servedBy, count] of acks.likes) {
    likes += Math.max(0, count - fewest((v) => v.likes[servedBy] ?? 0));
  }
  for (const [key, count] of acks.cart) {
    const [sub, servedBy] = key.split('|') as [string, string];
    cartAdds += Math.max(0, count - fewest((v) => v.carts[sub]?.[servedBy] ?? 0));
  }
  return { likes, cartAdds };
}

/** What one region's replica holds of a jurisdiction's drill data. */
export interface ReplicaView {
  readonly likes: Readonly<Record<string, number>>;
  /** sub → serving region → `added` of the drill SKU's cart line there. */
  readonly carts: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * Takes `options.region` down under a steady load from clients on every continent, brings
 * it back, and measures: how soon the region's clients were served elsewhere (per
 * continent), what errors clients saw, whether any acknowledged write was lost (read back
 * from every region of the jurisdiction), and how soon the regions agreed again.
 *
 * It starts its own local platform on free loopback ports and stops it before returning.
 * Writes (likes, cart adds, orders) stop at the return, so convergence is measured on a
 * fixed set of writes; reads continue until the region's clients are back on it.
 *
 * In the local platform a region that is down answers 503 to everything (its health check
 * included) and replication is paused for the outage, so the convergence figure is the
 * catch-up of the outage's replication backlog after the return.
 */
export async function runRegionDrill(options: RegionDrillOptions = {}): Promise<RegionDrillResult> {
  const s = resolveDrillOptions(options);
  const progress = options.onProgress ?? (() => undefined);
  const { topology, region } = s;
  const home = topology.jurisdictionOf(region);
  const origin = clock();
  const deadline = origin + s.maxWallMs - STOP_RESERVE_MS;
  const left = () => deadline - clock();
  const at = (t: number) => seconds(t - origin);

  progress(`starting ${topology.servingRegions.length} regions (${topology.deploymentModel}) on 127.0.0.1`);
  const platform = await startWithin(
    () =>
      startLocalPlatform({
        topology,
        portBase: 0,
        replicationDelayMs: s.replicationDelayMs,
        distance: { scale: s.distanceScale },
        healthIntervalMs: s.healthIntervalMs,
        healthFailureThreshold: s.healthFailureThreshold,
        onReplicationError: (error) => progress(`replication error (retried): ${(error as Error).message}`),
      }),
    left(),
  );
  const started = clock();
  const stores: DynamoDBClient[] = [];
  try {
    return await drill(s, platform, stores, { origin, started, deadline, left, at, progress, home: home.name });
  } finally {
    for (const client of stores) client.destroy();
    // Every region answers 503 first, so the edge's last health checks do not reach stores
    // that are closing (their probes would log failures).
    for (const r of platform.regions)
      await control(platform, 'POST', `/regions/${r.region}/down`).catch(() => undefined);
    await platform.stop();
  }
}

async function startWithin(start: () => Promise<LocalPlatform>, ms: number): Promise<LocalPlatform> {
  let timer: NodeJS.Timeout | undefined;
  const starting = start();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the local platform did not start within ${Math.round(ms)} ms`)), ms);
  });
  try {
    return await Promise.race([starting, timeout]);
  } catch (error) {
    // A late start is stopped as soon as it finishes, so nothing outlives the drill.
    starting.then((late) => late.stop()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

interface DrillContext {
  readonly origin: number;
  readonly started: number;
  readonly deadline: number;
  readonly left: () => number;
  readonly at: (t: number) => number;
  readonly progress: (line: string) => void;
  readonly home: string;
}

async function drill(
  s: Settings,
  platform: LocalPlatform,
  dynamoClients: DynamoDBClient[],
  t: DrillContext,
): Promise<RegionDrillResult> {
  const { topology, region } = s;
  const jurisdictions = topology.jurisdictions.map((j) => j.name);
  const regionsOf = (j: string) => platform.regions.filter((r) => r.jurisdiction === j);
  const storeOf = new Map<string, EventualStore>(
    platform.regions.map((r: LocalRegionHandle) => {
      const client = new DynamoDBClient({
        endpoint: r.dynamoEndpoint,
        region: r.region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        // Every read-back has a deadline too.
        requestHandler: { requestTimeout: s.requestTimeoutMs, connectionTimeout: s.requestTimeoutMs },
      });
      dynamoClients.push(client);
      return [r.region, new EventualStore(client, r.tableName)];
    }),
  );
  t.progress(`platform up in ${seconds(t.started - t.origin)} s; edge ${platform.edgeUrl}`);

  // Setup: one product per jurisdiction with ample stock, visible in every region.
  for (const j of topology.jurisdictions) {
    const admin = (
      await control(platform, 'POST', '/tokens', { jurisdiction: j.name, sub: 'drill-admin', admin: true })
    ).token as string;
    const created = await call(
      `${platform.edgeUrl}/api/products/${skuOf(j.name)}`,
      {
        method: 'PUT',
        headers: { 'x-client-region': j.primaryRegion, authorization: `Bearer ${admin}` },
        body: { name: `Drill ${j.name}`, priceCents: 100, currency: 'EUR', stock: 1_000_000 },
      },
      s.requestTimeoutMs,
    );
    if (!('status' in created) || created.status !== 200) {
      throw new Error(`could not create the drill product in ${j.name}: ${JSON.stringify(created)}`);
    }
  }
  const replicated = await waitFor(
    async () => {
      for (const r of platform.regions) {
        const { details } = await (storeOf.get(r.region) as EventualStore).getProduct(skuOf(r.jurisdiction));
        if (!details) return false;
      }
      return true;
    },
    Math.min(10_000, t.left()),
  );
  if (!replicated) throw new Error('the drill products did not reach every region within 10 s');

  const clients: DrillClient[] = [];
  for (const continent of Object.keys(DRILL_CONTINENTS) as Continent[]) {
    const locations = DRILL_CONTINENTS[continent];
    for (let i = 0; i < s.clientsPerContinent; i++) {
      const jurisdiction = jurisdictions[i % jurisdictions.length] as string;
      const location = locations[Math.floor(i / jurisdictions.length) % locations.length] as string;
      const sub = `drill-${continent.toLowerCase()}-${i}`;
      const { token } = await control(platform, 'POST', '/tokens', { jurisdiction, sub });
      clients.push({ index: clients.length, continent, location, jurisdiction, sub, token, seq: 0 });
    }
  }

  // The load: every client sends one request at a time, `rate` a second.
  const acknowledged = new Map<string, Acknowledged>(
    jurisdictions.map((j) => [j, { likes: new Map(), cart: new Map(), orders: [] }]),
  );
  const ackWhileDown = emptyCounts();
  const samples: Sample[] = [];
  const state = {
    sent: 0,
    writesOpen: true,
    stopping: false,
    /** The phases failed: background checks give up. */
    abandoned: false,
    inFlightWrites: 0,
    stoppedEarly: undefined as RegionDrillResult['stoppedEarly'],
    downAt: Number.POSITIVE_INFINITY,
    upAt: Number.POSITIVE_INFINITY,
  };
  const periodMs = 1000 / s.rate;
  const perform = async (c: DrillClient, op: DrillOperation): Promise<Sample> => {
    const sku = skuOf(c.jurisdiction);
    const headers = { 'x-client-region': c.location, authorization: `Bearer ${c.token}` };
    const request =
      op === 'like'
        ? { method: 'POST', path: `/api/products/${sku}/likes` }
        : op === 'cart-add'
          ? { method: 'POST', path: '/api/me/cart/items', body: { sku, quantity: 1 } }
          : op === 'order'
            ? { method: 'POST', path: '/api/orders', body: { lines: [{ sku, quantity: 1 }] } }
            : { method: 'GET', path: '/api/me/cart' };
    const write = op !== 'cart-read';
    if (write) state.inFlightWrites++;
    const start = clock();
    try {
      const answer = await call(
        `${platform.edgeUrl}${request.path}`,
        {
          method: request.method,
          headers: op === 'order' ? { ...headers, 'idempotency-key': `${c.sub}-${c.seq}` } : headers,
          body: request.body,
        },
        s.requestTimeoutMs,
      );
      const end = clock();
      if (!('status' in answer)) {
        const failed: Sample = {
          client: c.index,
          op,
          start,
          end,
          ok: false,
          kind: answer.kind,
          routedTo: null,
          servedBy: null,
        };
        samples.push(failed);
        return failed;
      }
      const ok = answer.status >= 200 && answer.status < 300;
      const sample: Sample = {
        client: c.index,
        op,
        start,
        end,
        ok,
        ...(ok ? {} : { kind: `HTTP ${answer.status}`, detail: errorDetail(answer.body) }),
        routedTo: answer.routedTo,
        servedBy: answer.servedBy,
      };
      samples.push(sample);
      if (!ok || !write) return sample;
      const acks = acknowledged.get(c.jurisdiction) as Acknowledged;
      // The region whose functions took the write; `unknown` is never found, so counts as lost.
      const servedBy = answer.servedBy ?? answer.routedTo ?? 'unknown';
      const whileDown = start >= state.downAt && start < state.upAt;
      if (op === 'like') {
        add(acks.likes, servedBy);
        if (whileDown) ackWhileDown.likes++;
      } else if (op === 'cart-add') {
        add(acks.cart, `${c.sub}|${servedBy}`);
        if (whileDown) ackWhileDown.cartAdds++;
      } else {
        acks.orders.push({ id: String(answer.body?.id), sub: c.sub, token: c.token });
        if (whileDown) ackWhileDown.orders++;
      }
      return sample;
    } finally {
      if (write) state.inFlightWrites--;
    }
  };
  /** Per client: when it was first served by the region after the return. */
  const servedAgainAt = new Map<number, number>();
  const loop = async (c: DrillClient) => {
    // Staggered, so the clients' requests spread over each period.
    let next = clock() + (periodMs * c.index) / clients.length;
    while (!state.stopping) {
      await sleep(next - clock());
      if (state.stopping) break;
      if (state.sent >= s.maxRequests) {
        state.stoppedEarly ??= 'request cap';
        break;
      }
      if (t.left() <= 0) {
        state.stoppedEarly ??= 'wall time cap';
        break;
      }
      const op = state.writesOpen ? (MIX[(c.seq + c.index) % MIX.length] as DrillOperation) : 'cart-read';
      c.seq++;
      state.sent++;
      const sample = await perform(c, op);
      if (sample.ok && sample.routedTo === region && sample.start >= state.upAt) {
        if (!servedAgainAt.has(c.index)) servedAgainAt.set(c.index, sample.end);
      }
      next = Math.max(next + periodMs, clock());
    }
  };
  const loadStarted = clock();
  t.progress(
    `load: ${clients.length} clients (${s.clientsPerContinent} per continent) x ${s.rate}/s, cap ${s.maxRequests} requests`,
  );
  const running = Promise.all(clients.map(loop));
  const capped = () => state.stoppedEarly !== undefined;

  // The edge's view of the region, watched through the controls from the down on.
  const edge = { unhealthyAt: undefined as number | undefined, healthyAt: undefined as number | undefined };
  let watching = true;
  const watchEdge = (async () => {
    while (watching && t.left() > 0) {
      const status = await control(platform, 'GET', '/').catch(() => undefined);
      const healthy = status?.regions?.[region]?.healthyAtEdge;
      const now = clock();
      if (healthy === false && edge.unhealthyAt === undefined && now >= state.downAt) edge.unhealthyAt = now;
      if (healthy === true && edge.unhealthyAt !== undefined && edge.healthyAt === undefined && now >= state.upAt) {
        edge.healthyAt = now;
      }
      await sleep(50);
    }
  })();
  const onRegionAt = (downAt: number) => {
    const before = lastRouted(samples, downAt);
    return { before, on: new Set(clients.filter((c) => before.get(c.index) === region).map((c) => c.index)) };
  };

  let backlog: Record<string, number> = {};
  let regionBeforeDown = new Map<number, string>();
  let onRegion = new Set<number>();
  let convergence: Promise<Record<string, number | null>> = Promise.resolve({});
  let phasesDone = false;
  try {
    await sleep(Math.min(s.warmupMs, t.left()));
    // And until every client has been answered, so each one's region before the down is known.
    const seenAll = await waitFor(
      () => capped() || lastRouted(samples, clock()).size === clients.length,
      Math.min(10_000, Math.max(0, t.left())),
    );
    if (!seenAll) t.progress('warning: not every client had an answer before the down');

    // Down.
    state.downAt = clock();
    await control(platform, 'POST', `/regions/${region}/down`);
    // A lost region neither sends nor receives replication. The local replicator pauses
    // as a whole, so the outage's writes pile up everywhere and the convergence figure
    // is the catch-up of that backlog after the return.
    await control(platform, 'POST', '/replication/pause');
    t.progress(`${region} down at ${t.at(state.downAt)} s (${onRegionAt(state.downAt).on.size} clients were on it)`);
    await waitFor(capped, Math.max(0, Math.min(s.downMs, t.left())), 50);
    const downFor = clock() - state.downAt;
    if (downFor < s.downMs && !capped()) await sleep(s.downMs - downFor);

    // Up: writes stop; reads continue until the region's clients are back on it.
    state.upAt = clock();
    state.writesOpen = false;
    const upStatus = await control(platform, 'POST', `/regions/${region}/up`);
    await control(platform, 'POST', '/replication/resume');
    backlog = Object.fromEntries(
      Object.entries((upStatus?.replication ?? {}) as Record<string, { backlog?: number }>).map(([j, r]) => [
        j,
        Number(r.backlog ?? 0),
      ]),
    );
    // Requests sent just before the down have all been answered by now.
    ({ before: regionBeforeDown, on: onRegion } = onRegionAt(state.downAt));
    t.progress(`${region} up at ${t.at(state.upAt)} s`);
    convergence = watchConvergence();
    await waitFor(
      () => capped() || [...onRegion].every((i) => servedAgainAt.has(i)),
      Math.max(0, Math.min(s.returnTimeoutMs, t.left())),
    );
    phasesDone = true;
  } finally {
    // However the phases ended, no client or watcher outlives them.
    state.stopping = true;
    watching = false;
    await running;
    await watchEdge;
    if (!phasesDone) state.abandoned = true;
  }
  const loadEnded = clock();
  t.progress(`load ended at ${t.at(loadEnded)} s after ${state.sent} requests`);
  const converged = await convergence;

  // Read back: eventual writes from every replica, strong ones through every region's API.
  const lost = emptyCounts();
  const checkedRegions: Record<string, string[]> = {};
  for (const j of jurisdictions) {
    const regions = regionsOf(j);
    checkedRegions[j] = regions.map((r) => r.region);
    const acks = acknowledged.get(j) as Acknowledged;
    const views = await Promise.all(regions.map((r) => replicaView(r.region, j)));
    const missing = missingEventualWrites(acks, views);
    lost.likes += missing.likes;
    lost.cartAdds += missing.cartAdds;
    lost.orders += await missingOrders(acks.orders, regions);
  }
  const ack = emptyCounts();
  for (const acks of acknowledged.values()) {
    ack.likes += [...acks.likes.values()].reduce((a, b) => a + b, 0);
    ack.cartAdds += [...acks.cart.values()].reduce((a, b) => a + b, 0);
    ack.orders += acks.orders.length;
  }

  return {
    region,
    jurisdiction: t.home,
    deploymentModel: topology.deploymentModel,
    regionIsPrimary: topology.jurisdictionOf(region).primaryRegion === region,
    settings: {
      clients: clients.length,
      clientsPerContinent: s.clientsPerContinent,
      ratePerClient: s.rate,
      warmupMs: s.warmupMs,
      downMs: s.downMs,
      healthIntervalMs: s.healthIntervalMs,
      healthFailureThreshold: s.healthFailureThreshold,
      replicationDelayMs: s.replicationDelayMs,
      distanceScale: s.distanceScale,
      maxRequests: s.maxRequests,
      maxWallMs: s.maxWallMs,
    },
    clients: clients.map((c) => ({
      continent: c.continent,
      location: c.location,
      jurisdiction: c.jurisdiction,
      regionBeforeDown: regionBeforeDown.get(c.index) ?? null,
    })),
    failover: {
      ...failoverFigures(samples, clients, region, onRegion, state.downAt, state.upAt, servedAgainAt),
      edgeMarkedUnhealthyAfterSeconds: edge.unhealthyAt === undefined ? null : seconds(edge.unhealthyAt - state.downAt),
      edgeMarkedHealthyAfterSeconds: edge.healthyAt === undefined ? null : seconds(edge.healthyAt - state.upAt),
    },
    errors: errorFigures(samples, state.downAt),
    writes: {
      acknowledged: total(ack),
      acknowledgedWhileDown: total(ackWhileDown),
      lost: total(lost),
      checkedRegions,
    },
    lostAcknowledgedWrites: lost.likes + lost.cartAdds + lost.orders,
    convergence: {
      converged: Object.values(converged).every((v) => v !== null),
      afterSeconds: converged[t.home] ?? null,
      byJurisdiction: converged,
      replicationBacklogAtReturn: backlog,
    },
    requests: {
      sent: samples.length,
      succeeded: samples.filter((x) => x.ok).length,
      failed: samples.filter((x) => !x.ok).length,
      achievedRatePerSecond: Math.round((samples.length / ((loadEnded - loadStarted) / 1000)) * 10) / 10,
      latencyMs: latency(samples),
    },
    ...(state.stoppedEarly ? { stoppedEarly: state.stoppedEarly } : {}),
    timeline: {
      platformStartSeconds: seconds(t.started - t.origin),
      downAtSeconds: t.at(state.downAt),
      upAtSeconds: t.at(state.upAt),
      loadEndedAtSeconds: t.at(loadEnded),
      wallSeconds: t.at(clock()),
    },
  };

  async function replicaView(r: string, j: string): Promise<ReplicaView> {
    const store = storeOf.get(r) as EventualStore;
    const sku = skuOf(j);
    const { likes } = await store.getProduct(sku);
    const carts: Record<string, Record<string, number>> = {};
    for (const c of clients.filter((x) => x.jurisdiction === j)) {
      const line = (await store.getCart(c.sub)).get(sku) ?? {};
      carts[c.sub] = Object.fromEntries(Object.entries(line).map(([at, replica]) => [at, replica.added]));
    }
    return { likes, carts };
  }

  /** A region's whole replica as one string: one scan, cheap enough to poll. */
  async function replicaContents(r: LocalRegionHandle): Promise<string> {
    const documents = DynamoDBDocumentClient.from(storeOf.get(r.region)?.client as DynamoDBClient);
    const items: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: r.tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) items.push(canonicalJson(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.sort().join('\n');
  }

  /**
   * Whether every region of `j` holds the same items (a whole-table comparison), and they
   * include every acknowledged write (read through the store's own queries).
   */
  async function agreed(j: string): Promise<boolean> {
    const regions = regionsOf(j);
    const contents = await Promise.all(regions.map(replicaContents));
    if (new Set(contents).size !== 1) return false;
    const view = await replicaView((regions[0] as LocalRegionHandle).region, j);
    const acks = acknowledged.get(j) as Acknowledged;
    for (const [servedBy, count] of acks.likes) if ((view.likes[servedBy] ?? 0) < count) return false;
    for (const [key, count] of acks.cart) {
      const [sub, servedBy] = key.split('|') as [string, string];
      if ((view.carts[sub]?.[servedBy] ?? 0) < count) return false;
    }
    return true;
  }

  /** From the return, polls every jurisdiction until its regions agree; seconds after the return, or null. */
  async function watchConvergence(): Promise<Record<string, number | null>> {
    const result: Record<string, number | null> = Object.fromEntries(jurisdictions.map((j) => [j, null]));
    const pending = new Set(jurisdictions);
    await waitFor(
      async () => {
        // Writes still in flight may yet be acknowledged: agreement counts only once they are done.
        if (state.abandoned) return true;
        if (state.inFlightWrites > 0) return false;
        for (const j of [...pending]) {
          // A failed read is retried on the next poll.
          if (await agreed(j).catch(() => false)) {
            result[j] = seconds(clock() - state.upAt);
            pending.delete(j);
          }
        }
        return pending.size === 0;
      },
      Math.max(0, Math.min(s.convergeTimeoutMs, t.left())),
      100,
    );
    return result;
  }

  /**
   * Acknowledged orders that some region of the jurisdiction cannot show (read through its
   * own API). Orders left unchecked when the wall cap comes count as missing: unproven.
   */
  async function missingOrders(orders: Acknowledged['orders'], regions: LocalRegionHandle[]): Promise<number> {
    let missing = 0;
    const queue = [...orders];
    const worker = async () => {
      for (let order = queue.shift(); order; order = queue.shift()) {
        if (t.left() < -STOP_RESERVE_MS / 2) {
          missing++;
          continue;
        }
        for (const r of regions) {
          const answer = await call(
            `${r.url}/api/orders/${encodeURIComponent(order.id)}`,
            { method: 'GET', headers: { authorization: `Bearer ${order.token}` } },
            s.requestTimeoutMs,
          );
          if (!('status' in answer) || answer.status !== 200 || answer.body?.id !== order.id) {
            missing++;
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return missing;
  }
}

/** Per client, the region the edge sent its last request before `downAt` to. */
function lastRouted(samples: readonly Sample[], downAt: number): Map<number, string> {
  const last = new Map<number, string>();
  for (const x of samples) if (x.start < downAt && x.routedTo) last.set(x.client, x.routedTo);
  return last;
}

function failoverFigures(
  samples: readonly Sample[],
  clients: readonly DrillClient[],
  region: string,
  onRegion: ReadonlySet<number>,
  downAt: number,
  upAt: number,
  servedAgainAt: ReadonlyMap<number, number>,
): Omit<RegionDrillResult['failover'], 'edgeMarkedUnhealthyAfterSeconds' | 'edgeMarkedHealthyAfterSeconds'> {
  const continents = (Object.keys(DRILL_CONTINENTS) as Continent[]).map((continent): ContinentFailover => {
    const mine = clients.filter((c) => c.continent === continent && onRegion.has(c.index));
    const moved = mine.map((c) =>
      samples.find((x) => x.client === c.index && x.ok && x.routedTo !== region && x.start >= downAt && x.start < upAt),
    );
    const times = moved.map((x) => (x ? x.end - downAt : null));
    const back = mine.map((c) => servedAgainAt.get(c.index));
    const all = <T>(values: readonly (T | null | undefined)[]): values is T[] =>
      values.length > 0 && values.every((v) => v !== null && v !== undefined);
    return {
      continent,
      clientsOnRegion: mine.length,
      firstServedElsewhereAfterSeconds: times.some((v) => v !== null)
        ? seconds(Math.min(...times.filter((v): v is number => v !== null)))
        : null,
      servedElsewhereAfterSeconds: all(times) ? seconds(Math.max(...times)) : null,
      servedElsewhereBy: [...new Set(moved.map((x) => x?.routedTo).filter((r): r is string => !!r))].sort(),
      servedAgainAfterSeconds: all(back) ? seconds(Math.max(...back) - upAt) : null,
    };
  });
  const affected = continents.filter((c) => c.clientsOnRegion > 0);
  const allServedElsewhere = affected.length > 0 && affected.every((c) => c.servedElsewhereAfterSeconds !== null);
  return {
    continents,
    servedElsewhereAfterSeconds: allServedElsewhere
      ? Math.max(...affected.map((c) => c.servedElsewhereAfterSeconds as number))
      : null,
    allServedElsewhere,
  };
}

function latency(samples: readonly Sample[]): { p50: number; p95: number; max: number } {
  const times = samples
    .filter((x) => x.ok)
    .map((x) => x.end - x.start)
    .sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0);
  return { p50: at(0.5), p95: at(0.95), max: at(1) };
}

function errorFigures(samples: readonly Sample[], downAt: number): RegionDrillResult['errors'] {
  const byKind: Record<string, number> = {};
  const byOperation: Partial<Record<DrillOperation, number>> = {};
  let duringSwitch = 0;
  let beforeDown = 0;
  let unexpected = 0;
  const byDetail: Record<string, number> = {};
  for (const x of samples) {
    if (x.ok) continue;
    const kind = x.kind ?? 'unknown';
    // A handler that threw is a fault, whatever status the local gateway gave it.
    if (!isSwitchErrorKind(kind) || x.detail?.startsWith('local gateway error')) unexpected++;
    const detail = x.detail ? `${kind} ${x.detail}` : kind;
    byDetail[detail] = (byDetail[detail] ?? 0) + 1;
    // By when the answer came: a request sent just before the down can meet it.
    if (x.end < downAt) {
      beforeDown++;
      continue;
    }
    duringSwitch++;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    byOperation[x.op] = (byOperation[x.op] ?? 0) + 1;
  }
  return { duringSwitch, byKind, byOperation, unexpected, beforeDown, byDetail };
}

/** The figures as a small table, for people; the result itself is for tools. */
export function formatDrillTable(r: RegionDrillResult): string {
  const secs = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} s`);
  const list = (entries: [string, number | string][]) => entries.map(([k, v]) => `${k} ${v}`).join(', ');
  const lines: string[] = [];
  const row = (label: string, value: string, detail = '') =>
    lines.push(`  ${label.padEnd(36)} ${value.padEnd(8)} ${detail}`.trimEnd());
  const set = r.settings;
  lines.push(
    `Region drill: ${r.region} (${r.jurisdiction}${r.regionIsPrimary ? ' primary' : ''}) down ${set.downMs / 1000} s, ` +
      `${r.deploymentModel}; ${set.clients} clients x ${set.ratePerClient}/s; ` +
      `health checks every ${set.healthIntervalMs} ms x ${set.healthFailureThreshold}`,
  );
  row(
    `Edge marked ${r.region} unhealthy after`,
    secs(r.failover.edgeMarkedUnhealthyAfterSeconds),
    `healthy again ${secs(r.failover.edgeMarkedHealthyAfterSeconds)} after the return`,
  );
  lines.push('  Served elsewhere after the down (until every client of the continent that was on it got a success)');
  for (const c of r.failover.continents) {
    if (c.clientsOnRegion === 0) {
      row(`  ${c.continent}`, '-', `no clients on ${r.region}`);
      continue;
    }
    row(
      `  ${c.continent} (${c.clientsOnRegion} client${c.clientsOnRegion === 1 ? '' : 's'})`,
      secs(c.servedElsewhereAfterSeconds),
      `first ${secs(c.firstServedElsewhereAfterSeconds)}, by ${c.servedElsewhereBy.join(', ') || '-'}; ` +
        `back on ${r.region} ${secs(c.servedAgainAfterSeconds)} after the return`,
    );
  }
  const e = r.errors;
  row(
    'Errors during the switch',
    String(e.duringSwitch),
    [
      e.duringSwitch ? `${list(Object.entries(e.byKind))} (${list(Object.entries(e.byOperation))})` : '',
      e.unexpected ? `UNEXPECTED kinds: ${e.unexpected}` : '',
      e.beforeDown ? `${e.beforeDown} more before the down` : '',
    ]
      .filter(Boolean)
      .join('; '),
  );
  const w = r.writes;
  row(
    'Acknowledged writes lost',
    String(r.lostAcknowledgedWrites),
    `of ${w.acknowledged.total}: likes ${w.lost.likes}/${w.acknowledged.likes}, cart adds ${w.lost.cartAdds}/${w.acknowledged.cartAdds}, ` +
      `orders ${w.lost.orders}/${w.acknowledged.orders} (${w.acknowledgedWhileDown.total} acknowledged while down)`,
  );
  row(
    'Converged after the return',
    r.convergence.converged ? secs(r.convergence.afterSeconds) : 'NO',
    `${list(Object.entries(r.convergence.byJurisdiction).map(([j, v]) => [j, secs(v)]))}; ` +
      `replication backlog at the return: ${list(Object.entries(r.convergence.replicationBacklogAtReturn))}`,
  );
  const q = r.requests;
  row(
    'Requests',
    String(q.sent),
    `${q.failed} failed, ${q.achievedRatePerSecond}/s, latency p50 ${q.latencyMs.p50} ms p95 ${q.latencyMs.p95} ms; ` +
      `wall ${r.timeline.wallSeconds.toFixed(1)} s (platform start ${r.timeline.platformStartSeconds.toFixed(1)} s)` +
      (r.stoppedEarly ? `; STOPPED EARLY: ${r.stoppedEarly}` : ''),
  );
  return lines.join('\n');
}
