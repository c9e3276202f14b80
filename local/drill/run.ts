import { type LocalPlatform, startLocalPlatform } from '../platform';
import { countAcknowledged, ReplicaReader, readBackWrites, watchConvergence } from './audit';
import { clock, DrillWall, sleep, waitFor } from './clock';
import { watchEdgeHealth } from './edge-watch';
import { call, control, isAnswer } from './http';
import { createClients, type DrillClient, DrillLoad, drillSku } from './load';
import { type DrillSettings, type RegionDrillOptions, resolveDrillOptions } from './options';
import { type DrillRecord, drillResult, type RegionDrillResult } from './report';
import { type SignInAttempt, signIn } from './tokens';

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
  const settings = resolveDrillOptions(options);
  return drillWithPlatform(settings, options);
}

async function drillWithPlatform(settings: DrillSettings, options: RegionDrillOptions): Promise<RegionDrillResult> {
  const progress = options.onProgress ?? (() => undefined);
  const wall = new DrillWall(settings.maxWallMs);
  const platform = await startPlatform(settings, wall, progress);
  const platformStartedAt = clock();
  // Every read-back has a deadline too.
  const replicas = new ReplicaReader(platform, settings.requestTimeoutMs);
  try {
    const jurisdictions = settings.topology.jurisdictions.map((j) => j.name);
    const drill: Drill = { settings, platform, replicas, wall, progress, platformStartedAt, jurisdictions };
    return await drillOnPlatform(drill);
  } finally {
    replicas.close();
    await stopPlatform(platform);
  }
}

/** What every step of the drill works with. */
interface Drill {
  readonly settings: DrillSettings;
  readonly platform: LocalPlatform;
  readonly replicas: ReplicaReader;
  readonly wall: DrillWall;
  readonly progress: (line: string) => void;
  readonly platformStartedAt: number;
  /** The topology's jurisdictions, by name. */
  readonly jurisdictions: readonly string[];
}

async function startPlatform(
  settings: DrillSettings,
  wall: DrillWall,
  progress: (line: string) => void,
): Promise<LocalPlatform> {
  const { topology } = settings;
  progress(`starting ${topology.servingRegions.length} regions (${topology.deploymentModel}) on 127.0.0.1`);
  return startWithin(
    () =>
      startLocalPlatform({
        topology,
        portBase: 0,
        replicationDelayMs: settings.replicationDelayMs,
        distance: { scale: settings.distanceScale },
        healthIntervalMs: settings.healthIntervalMs,
        healthFailureThreshold: settings.healthFailureThreshold,
        // Every sign-in of the drill's platform gets the drill's ID token lifetime.
        idTokenValiditySeconds: settings.tokenTtlSeconds,
        onReplicationError: (error) => progress(`replication error (retried): ${(error as Error).message}`),
      }),
    wall.timeLeft(),
  );
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

async function stopPlatform(platform: LocalPlatform): Promise<void> {
  // Every region answers 503 first, so the edge's last health checks do not reach stores
  // that are closing (their probes would log failures).
  for (const handle of platform.regions) {
    await control(platform, 'POST', `/regions/${handle.region}/down`).catch(() => undefined);
  }
  await platform.stop();
}

/** The drill's steps, on a running platform. */
async function drillOnPlatform(drill: Drill): Promise<RegionDrillResult> {
  const { settings, platform, wall, progress } = drill;
  progress(`platform up in ${wall.secondsAt(drill.platformStartedAt)} s; edge ${platform.edgeUrl}`);
  await createDrillProducts(drill);
  await waitForProductsEverywhere(drill);
  const clients = await createClients(
    platform,
    settings.clientsPerContinent,
    drill.jurisdictions,
    settings.requestTimeoutMs,
  );
  const { load, loadStartedAt } = startLoad(drill, clients);
  const { convergence, ...outage } = await runOutage(drill, load, clients);
  const loadEndedAt = clock();
  progress(`load ended at ${wall.secondsAt(loadEndedAt)} s after ${load.sent} requests`);
  const convergedAfter = await convergence;
  const readBack = await readBackWrites(drill.replicas, load, clients, {
    requestTimeoutMs: settings.requestTimeoutMs,
    wall,
    controlUrl: platform.controlUrl,
    originHeaders: platform.originHeaders,
  });
  return drillResult({
    ...outage,
    settings,
    clients,
    load,
    acknowledged: countAcknowledged(load),
    readBack,
    convergedAfter,
    wall,
    platformStartedAt: drill.platformStartedAt,
    loadStartedAt,
    loadEndedAt,
  });
}

/** Setup: one product per jurisdiction with ample stock, created through the edge in its primary. */
async function createDrillProducts({ settings, platform }: Drill): Promise<void> {
  for (const jurisdiction of settings.topology.jurisdictions) {
    const admin = (
      await control(platform, 'POST', '/tokens', { jurisdiction: jurisdiction.name, sub: 'drill-admin', admin: true })
    ).token as string;
    const created = await call(
      `${platform.edgeUrl}/api/products/${drillSku(jurisdiction.name)}`,
      {
        method: 'PUT',
        headers: { 'x-client-region': jurisdiction.primaryRegion, authorization: `Bearer ${admin}` },
        body: { name: `Drill ${jurisdiction.name}`, priceCents: 100, currency: 'EUR', stock: 1_000_000 },
      },
      settings.requestTimeoutMs,
    );
    if (!isAnswer(created) || created.status !== 200) {
      throw new Error(`could not create the drill product in ${jurisdiction.name}: ${JSON.stringify(created)}`);
    }
  }
}

async function waitForProductsEverywhere({ replicas, wall }: Drill): Promise<void> {
  const replicated = await waitFor(() => replicas.everyRegionHasItsProduct(), Math.min(10_000, wall.timeLeft()));
  if (!replicated) throw new Error('the drill products did not reach every region within 10 s');
}

/** The clients' load, started; and when it started. */
function startLoad(drill: Drill, clients: readonly DrillClient[]): { load: DrillLoad; loadStartedAt: number } {
  const { settings, platform, wall } = drill;
  const load = new DrillLoad({
    edgeUrl: platform.edgeUrl,
    controlUrl: platform.controlUrl,
    clients,
    jurisdictions: drill.jurisdictions,
    region: settings.region,
    settings,
    timeLeft: () => wall.timeLeft(),
  });
  const loadStartedAt = clock();
  drill.progress(
    `load: ${clients.length} clients (${settings.clientsPerContinent} per continent) x ${settings.rate}/s, ` +
      `cap ${settings.maxRequests} requests`,
  );
  load.start();
  return { load, loadStartedAt };
}

/** What the outage phases leave for the figures. */
type Outage = Pick<
  DrillRecord,
  'regionBeforeDown' | 'onRegion' | 'edge' | 'replicationBacklogAtReturn' | 'signInProbes'
> & {
  /** Seconds from the return until each jurisdiction agreed, once the watch ends. */
  readonly convergence: Promise<Record<string, number | null>>;
};

/**
 * Warm-up, down, up, and the wait for the region's clients to be back on it, under load.
 * However the phases end, the load and the edge watch stop with them; if they failed, the
 * convergence watch gives up.
 */
async function runOutage(drill: Drill, load: DrillLoad, clients: readonly DrillClient[]): Promise<Outage> {
  const { settings, platform, wall } = drill;
  // The edge's view of the region, watched through the controls from the down on.
  const edgeWatch = watchEdgeHealth(platform, settings.region, load, () => wall.timeLeft());
  let abandoned = false;
  let phasesDone = false;
  try {
    await warmUp(drill, load, clients.length);
    const signInProbes = await takeRegionDown(drill, load);
    const replicationBacklogAtReturn = await bringRegionBack(drill, load);
    // Requests sent just before the down have all been answered by now.
    const regionBeforeDown = load.lastRoutedBefore(load.downAt);
    const onRegion = load.clientsOnRegionBefore(load.downAt);
    drill.progress(`${settings.region} up at ${wall.secondsAt(load.upAt)} s`);
    const convergence = watchConvergence({
      replicas: drill.replicas,
      load,
      clients,
      jurisdictions: drill.jurisdictions,
      timeoutMs: Math.max(0, Math.min(settings.convergeTimeoutMs, wall.timeLeft())),
      abandoned: () => abandoned,
    });
    await waitFor(
      () => load.capped || [...onRegion].every((index) => load.servedAgainAt.has(index)),
      Math.max(0, Math.min(settings.returnTimeoutMs, wall.timeLeft())),
    );
    phasesDone = true;
    return {
      regionBeforeDown,
      onRegion,
      edge: edgeWatch.marks,
      replicationBacklogAtReturn,
      signInProbes,
      convergence,
    };
  } finally {
    // However the phases ended, no client or watcher outlives them.
    await Promise.all([load.stop(), edgeWatch.stop()]);
    if (!phasesDone) abandoned = true;
  }
}

/** Load before the down, and until every client has been answered, so each one's region before the down is known. */
async function warmUp({ settings, wall, progress }: Drill, load: DrillLoad, clientCount: number): Promise<void> {
  await sleep(Math.min(settings.warmupMs, wall.timeLeft()));
  const seenAll = await waitFor(
    () => load.capped || load.lastRoutedBefore(clock()).size === clientCount,
    Math.min(10_000, Math.max(0, wall.timeLeft())),
  );
  if (!seenAll) progress('warning: not every client had an answer before the down');
}

/**
 * The region down for `downMs` (less if a cap stops the load), replication paused meanwhile;
 * returns the sign-ins the drill tried meanwhile for the region's jurisdiction.
 */
async function takeRegionDown(drill: Drill, load: DrillLoad): Promise<SignInAttempt[]> {
  const { settings, platform, wall, progress } = drill;
  const { region } = settings;
  load.markDown(clock());
  await control(platform, 'POST', `/regions/${region}/down`);
  // A lost region neither sends nor receives replication. The local replicator pauses
  // as a whole, so the outage's writes pile up everywhere and the convergence figure
  // is the catch-up of that backlog after the return.
  await control(platform, 'POST', '/replication/pause');
  const clientsOnIt = load.clientsOnRegionBefore(load.downAt).size;
  progress(`${region} down at ${wall.secondsAt(load.downAt)} s (${clientsOnIt} clients were on it)`);
  const probing = probeSignIn(drill, load);
  await waitFor(() => load.capped, Math.max(0, Math.min(settings.downMs, wall.timeLeft())), 50);
  const downFor = clock() - load.downAt;
  if (downFor < settings.downMs && !load.capped) await sleep(settings.downMs - downFor);
  return probing;
}

/** Sign-in probes: a fresh `POST /tokens` for the region's jurisdiction at a quarter, half and three quarters of the down. */
async function probeSignIn({ settings, platform }: Drill, load: DrillLoad): Promise<SignInAttempt[]> {
  const jurisdiction = settings.topology.jurisdictionOf(settings.region).name;
  const attempts: SignInAttempt[] = [];
  for (const quarter of [1, 2, 3]) {
    await sleep(load.downAt + (settings.downMs * quarter) / 4 - clock());
    if (load.capped || clock() >= load.upAt) break;
    const at = clock();
    const { session, status, code } = await signIn(
      platform.controlUrl,
      jurisdiction,
      'drill-sign-in-probe',
      settings.requestTimeoutMs,
    );
    attempts.push({
      jurisdiction,
      purpose: 'probe',
      at,
      granted: session !== undefined,
      status,
      ...(code ? { code } : {}),
    });
  }
  return attempts;
}

/** Up: writes stop, replication resumes; returns each jurisdiction's replication backlog at the return. */
async function bringRegionBack({ settings, platform }: Drill, load: DrillLoad): Promise<Record<string, number>> {
  load.markUp(clock());
  const upStatus = await control(platform, 'POST', `/regions/${settings.region}/up`);
  await control(platform, 'POST', '/replication/resume');
  const replication = (upStatus?.replication ?? {}) as Record<string, { backlog?: number }>;
  return Object.fromEntries(
    Object.entries(replication).map(([jurisdiction, state]) => [jurisdiction, Number(state.backlog ?? 0)]),
  );
}
