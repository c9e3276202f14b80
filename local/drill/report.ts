import type { DeploymentModel } from '../../lib/config/topology';
import type { ReadBack } from './audit';
import { clock, type DrillWall, seconds } from './clock';
import type { EdgeMarks } from './edge-watch';
import {
  CONTINENTS,
  type Continent,
  type DrillClient,
  type DrillLoad,
  type DrillOperation,
  type Sample,
  type StopReason,
  type WriteCounts,
  type WriteTally,
  withTotal,
} from './load';
import type { DrillSettings } from './options';
import { formatSignedIn, type SignedInResult, signedInFigures } from './signed-in';
import type { SignInAttempt } from './tokens';

/**
 * Error kinds a region switch is expected to cause: the downed region's bare 503 until the
 * edge notices, a strong write forwarded to a downed primary (503), an unreachable
 * upstream (502, 504), a refused or reset connection, a timeout, and the documented
 * read-only answer to a strong write while no writer is reachable (`HTTP 503
 * STRONG_STORE_UNAVAILABLE`, with Retry-After). Anything else (a 4xx, a 500, a 503 with
 * another code or without its Retry-After) is a fault and counted as unexpected.
 */
export function isSwitchErrorKind(kind: string): boolean {
  return (
    /^HTTP 50[234]$/.test(kind) ||
    kind === 'HTTP 503 STRONG_STORE_UNAVAILABLE' ||
    kind.startsWith('connection ') ||
    kind === 'timeout'
  );
}

/**
 * A token refused because it had expired (401/403): expected once a shopper's token runs
 * out while its pool's region is down, as it cannot be refreshed.
 */
export function isExpiredTokenKind(kind: string): boolean {
  return /^HTTP 40[13] token expired$/.test(kind);
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
    /** The clients' ID token lifetime, in seconds. */
    readonly tokenTtlSeconds: number;
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
    /**
     * Errors of a kind neither a switch nor an expired token explains (see
     * `isSwitchErrorKind`, `isExpiredTokenKind`), over the whole drill.
     */
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
  /**
   * The signed-in clients of the downed region's jurisdiction while it was down: their
   * eventual and strong requests, sign-in, and how long their tokens kept them served.
   */
  readonly signedIn: SignedInResult;
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
  readonly stoppedEarly?: StopReason;
  readonly timeline: {
    readonly platformStartSeconds: number;
    readonly downAtSeconds: number;
    readonly upAtSeconds: number;
    readonly loadEndedAtSeconds: number;
    readonly wallSeconds: number;
  };
}

/** Everything the drill observed, for the figures. */
export interface DrillRecord {
  readonly settings: DrillSettings;
  readonly clients: readonly DrillClient[];
  readonly load: DrillLoad;
  /** Per client, the region the edge sent it to before the down. */
  readonly regionBeforeDown: ReadonlyMap<number, string>;
  /** The clients that were on the region when it went down. */
  readonly onRegion: ReadonlySet<number>;
  readonly edge: EdgeMarks;
  /** The drill's sign-in probes while the region was down. */
  readonly signInProbes: readonly SignInAttempt[];
  readonly acknowledged: WriteTally;
  readonly readBack: ReadBack;
  readonly convergedAfter: Readonly<Record<string, number | null>>;
  readonly replicationBacklogAtReturn: Readonly<Record<string, number>>;
  readonly wall: DrillWall;
  readonly platformStartedAt: number;
  readonly loadStartedAt: number;
  readonly loadEndedAt: number;
}

/** The figures of a finished drill. */
export function drillResult(record: DrillRecord): RegionDrillResult {
  const { settings, load } = record;
  const { topology, region } = settings;
  const { lost, checkedRegions } = record.readBack;
  const jurisdiction = topology.jurisdictionOf(region);
  return {
    region,
    jurisdiction: jurisdiction.name,
    deploymentModel: topology.deploymentModel,
    regionIsPrimary: jurisdiction.primaryRegion === region,
    settings: settingsFigures(settings, record.clients.length),
    clients: record.clients.map((client) => ({
      continent: client.continent,
      location: client.location,
      jurisdiction: client.jurisdiction,
      regionBeforeDown: record.regionBeforeDown.get(client.index) ?? null,
    })),
    failover: {
      ...failoverFigures(record),
      edgeMarkedUnhealthyAfterSeconds: secondsSince(load.downAt, record.edge.unhealthyAt),
      edgeMarkedHealthyAfterSeconds: secondsSince(load.upAt, record.edge.healthyAt),
    },
    errors: errorFigures(load.samples, load.downAt),
    writes: {
      acknowledged: withTotal(record.acknowledged),
      acknowledgedWhileDown: withTotal(load.acknowledgedWhileDown),
      lost: withTotal(lost),
      checkedRegions,
    },
    signedIn: signedInResult(record),
    lostAcknowledgedWrites: lost.likes + lost.cartAdds + lost.orders,
    convergence: {
      converged: Object.values(record.convergedAfter).every((after) => after !== null),
      afterSeconds: record.convergedAfter[jurisdiction.name] ?? null,
      byJurisdiction: record.convergedAfter,
      replicationBacklogAtReturn: record.replicationBacklogAtReturn,
    },
    requests: requestFigures(load.samples, record.loadEndedAt - record.loadStartedAt),
    ...(load.stoppedEarly ? { stoppedEarly: load.stoppedEarly } : {}),
    timeline: {
      platformStartSeconds: record.wall.secondsAt(record.platformStartedAt),
      downAtSeconds: record.wall.secondsAt(load.downAt),
      upAtSeconds: record.wall.secondsAt(load.upAt),
      loadEndedAtSeconds: record.wall.secondsAt(record.loadEndedAt),
      wallSeconds: record.wall.secondsAt(clock()),
    },
  };
}

function signedInResult(record: DrillRecord): SignedInResult {
  const { settings, load, edge } = record;
  const { topology, region } = settings;
  const jurisdiction = topology.jurisdictionOf(region);
  const isPrimary = jurisdiction.primaryRegion === region;
  const strongSwitchedAt =
    isPrimary && edge.unhealthyAt !== undefined && edge.writerUnhealthyAt !== undefined
      ? Math.max(edge.unhealthyAt, edge.writerUnhealthyAt)
      : isPrimary
        ? undefined
        : edge.unhealthyAt;
  return signedInFigures({
    samples: load.samples,
    signIns: [...load.signIns, ...record.signInProbes],
    clients: record.clients,
    jurisdiction: jurisdiction.name,
    poolRegions: Object.fromEntries(topology.jurisdictions.map((j) => [j.name, j.primaryRegion])),
    region,
    downAt: load.downAt,
    upAt: load.upAt,
    ...(edge.unhealthyAt === undefined ? {} : { switchedAt: edge.unhealthyAt }),
    ...(strongSwitchedAt === undefined ? {} : { strongSwitchedAt }),
    tokenLifetimeSeconds: settings.tokenTtlSeconds,
  });
}

const secondsSince = (from: number, at: number | undefined): number | null =>
  at === undefined ? null : seconds(at - from);

function settingsFigures(settings: DrillSettings, clients: number): RegionDrillResult['settings'] {
  return {
    clients,
    clientsPerContinent: settings.clientsPerContinent,
    ratePerClient: settings.rate,
    warmupMs: settings.warmupMs,
    downMs: settings.downMs,
    healthIntervalMs: settings.healthIntervalMs,
    healthFailureThreshold: settings.healthFailureThreshold,
    replicationDelayMs: settings.replicationDelayMs,
    distanceScale: settings.distanceScale,
    maxRequests: settings.maxRequests,
    maxWallMs: settings.maxWallMs,
    tokenTtlSeconds: settings.tokenTtlSeconds,
  };
}

type FailoverFigures = Omit<
  RegionDrillResult['failover'],
  'edgeMarkedUnhealthyAfterSeconds' | 'edgeMarkedHealthyAfterSeconds'
>;

function failoverFigures(record: DrillRecord): FailoverFigures {
  const continents = CONTINENTS.map((continent) => continentFailover(record, continent));
  const affected = continents.filter((figures) => figures.clientsOnRegion > 0);
  const allServedElsewhere =
    affected.length > 0 && affected.every((figures) => figures.servedElsewhereAfterSeconds !== null);
  return {
    continents,
    servedElsewhereAfterSeconds: allServedElsewhere
      ? Math.max(...affected.map((figures) => figures.servedElsewhereAfterSeconds as number))
      : null,
    allServedElsewhere,
  };
}

/** How the continent's clients that were on the region fared: served elsewhere, by whom, and back. */
function continentFailover(record: DrillRecord, continent: Continent): ContinentFailover {
  const { samples, downAt, upAt, servedAgainAt } = record.load;
  const region = record.settings.region;
  const onRegion = record.clients.filter(
    (client) => client.continent === continent && record.onRegion.has(client.index),
  );
  const moved = onRegion.map((client) =>
    samples.find(
      (sample) =>
        sample.client === client.index &&
        sample.ok &&
        sample.routedTo !== region &&
        sample.start >= downAt &&
        sample.start < upAt,
    ),
  );
  const movedAfter = moved.map((sample) => (sample ? sample.end - downAt : null));
  const backAt = onRegion.map((client) => servedAgainAt.get(client.index));
  return {
    continent,
    clientsOnRegion: onRegion.length,
    firstServedElsewhereAfterSeconds: movedAfter.some((after) => after !== null)
      ? seconds(Math.min(...movedAfter.filter((after): after is number => after !== null)))
      : null,
    servedElsewhereAfterSeconds: allKnown(movedAfter) ? seconds(Math.max(...movedAfter)) : null,
    servedElsewhereBy: [...new Set(moved.map((sample) => sample?.routedTo).filter((to): to is string => !!to))].sort(),
    servedAgainAfterSeconds: allKnown(backAt) ? seconds(Math.max(...backAt) - upAt) : null,
  };
}

/** At least one value, and every one of them known. */
function allKnown<T>(values: readonly (T | null | undefined)[]): values is T[] {
  return values.length > 0 && values.every((value) => value !== null && value !== undefined);
}

function requestFigures(samples: readonly Sample[], loadMs: number): RegionDrillResult['requests'] {
  return {
    sent: samples.length,
    succeeded: samples.filter((sample) => sample.ok).length,
    failed: samples.filter((sample) => !sample.ok).length,
    achievedRatePerSecond: Math.round((samples.length / (loadMs / 1000)) * 10) / 10,
    latencyMs: latency(samples),
  };
}

function latency(samples: readonly Sample[]): { p50: number; p95: number; max: number } {
  const times = samples
    .filter((sample) => sample.ok)
    .map((sample) => sample.end - sample.start)
    .sort((a, b) => a - b);
  const quantile = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0);
  return { p50: quantile(0.5), p95: quantile(0.95), max: quantile(1) };
}

function errorFigures(samples: readonly Sample[], downAt: number): RegionDrillResult['errors'] {
  const byKind: Record<string, number> = {};
  const byOperation: Partial<Record<DrillOperation, number>> = {};
  let duringSwitch = 0;
  let beforeDown = 0;
  let unexpected = 0;
  const byDetail: Record<string, number> = {};
  for (const sample of samples) {
    if (sample.ok) continue;
    const kind = sample.kind ?? 'unknown';
    // A handler that threw is a fault, whatever status the local gateway gave it.
    const explained = isSwitchErrorKind(kind) || isExpiredTokenKind(kind);
    if (!explained || sample.detail?.startsWith('local gateway error')) unexpected++;
    const detail = sample.detail ? `${kind} ${sample.detail}` : kind;
    byDetail[detail] = (byDetail[detail] ?? 0) + 1;
    // By when the answer came: a request sent just before the down can meet it.
    if (sample.end < downAt) {
      beforeDown++;
      continue;
    }
    duringSwitch++;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    byOperation[sample.op] = (byOperation[sample.op] ?? 0) + 1;
  }
  return { duringSwitch, byKind, byOperation, unexpected, beforeDown, byDetail };
}

/** The figures as a small table, for people; the result itself is for tools. */
export function formatDrillTable(result: RegionDrillResult): string {
  const lines: string[] = [];
  const row = (label: string, value: string, detail = '') =>
    lines.push(`  ${label.padEnd(36)} ${value.padEnd(8)} ${detail}`.trimEnd());
  const { settings, failover } = result;
  lines.push(
    `Region drill: ${result.region} (${result.jurisdiction}${result.regionIsPrimary ? ' primary' : ''}) ` +
      `down ${settings.downMs / 1000} s, ${result.deploymentModel}; ` +
      `${settings.clients} clients x ${settings.ratePerClient}/s; ` +
      `health checks every ${settings.healthIntervalMs} ms x ${settings.healthFailureThreshold}; ` +
      `ID tokens ${settings.tokenTtlSeconds} s`,
  );
  row(
    `Edge marked ${result.region} unhealthy after`,
    secs(failover.edgeMarkedUnhealthyAfterSeconds),
    `healthy again ${secs(failover.edgeMarkedHealthyAfterSeconds)} after the return`,
  );
  lines.push('  Served elsewhere after the down (until every client of the continent that was on it got a success)');
  for (const figures of failover.continents) {
    if (figures.clientsOnRegion === 0) {
      row(`  ${figures.continent}`, '-', `no clients on ${result.region}`);
      continue;
    }
    row(
      `  ${figures.continent} (${figures.clientsOnRegion} client${figures.clientsOnRegion === 1 ? '' : 's'})`,
      secs(figures.servedElsewhereAfterSeconds),
      `first ${secs(figures.firstServedElsewhereAfterSeconds)}, by ${figures.servedElsewhereBy.join(', ') || '-'}; ` +
        `back on ${result.region} ${secs(figures.servedAgainAfterSeconds)} after the return`,
    );
  }
  row('Errors during the switch', String(result.errors.duringSwitch), errorsDetail(result.errors));
  lines.push(...formatSignedIn(result.signedIn, result.region));
  row('Acknowledged writes lost', String(result.lostAcknowledgedWrites), writesDetail(result.writes));
  const { convergence } = result;
  row(
    'Converged after the return',
    convergence.converged ? secs(convergence.afterSeconds) : 'NO',
    `${list(Object.entries(convergence.byJurisdiction).map(([j, after]) => [j, secs(after)]))}; ` +
      `replication backlog at the return: ${list(Object.entries(convergence.replicationBacklogAtReturn))}`,
  );
  row('Requests', String(result.requests.sent), requestsDetail(result));
  return lines.join('\n');
}

const secs = (value: number | null) => (value === null ? '-' : `${value.toFixed(2)} s`);
const list = (entries: [string, number | string][]) => entries.map(([key, value]) => `${key} ${value}`).join(', ');

function errorsDetail(errors: RegionDrillResult['errors']): string {
  return [
    errors.duringSwitch ? `${list(Object.entries(errors.byKind))} (${list(Object.entries(errors.byOperation))})` : '',
    errors.unexpected ? `UNEXPECTED kinds: ${errors.unexpected}` : '',
    errors.beforeDown ? `${errors.beforeDown} more before the down` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function writesDetail(writes: RegionDrillResult['writes']): string {
  const { acknowledged, lost } = writes;
  return (
    `of ${acknowledged.total}: likes ${lost.likes}/${acknowledged.likes}, ` +
    `cart adds ${lost.cartAdds}/${acknowledged.cartAdds}, orders ${lost.orders}/${acknowledged.orders} ` +
    `(${writes.acknowledgedWhileDown.total} acknowledged while down)`
  );
}

function requestsDetail(result: RegionDrillResult): string {
  const { requests, timeline } = result;
  return (
    `${requests.failed} failed, ${requests.achievedRatePerSecond}/s, ` +
    `latency p50 ${requests.latencyMs.p50} ms p95 ${requests.latencyMs.p95} ms; ` +
    `wall ${timeline.wallSeconds.toFixed(1)} s (platform start ${timeline.platformStartSeconds.toFixed(1)} s)` +
    (result.stoppedEarly ? `; STOPPED EARLY: ${result.stoppedEarly}` : '')
  );
}
