import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requireOriginProof } from '../lambda/authorizer/origin-guard';
import { OriginProofVerifier } from '../lambda/authorizer/origin-proof';
import { keysUnavailable, poolVerifier } from '../lambda/authorizer/pool-verifier';
import { createTokenAuthorizer } from '../lambda/authorizer/token-authorizer';
import { ProductCache } from '../lambda/cache/product-cache';
import { RecordingCardProcessor } from '../lambda/payments/card-processor';
import type { JurisdictionDirectory } from '../lambda/residency/jurisdiction-guard';
import { ORIGIN_PROOF_HEADER } from '../lambda/shared/api-contract';
import { EventualStore } from '../lambda/stores/eventual-store';
import { StrongStore } from '../lambda/stores/strong-store';
import { jurisdictionDirectory } from '../lib/config/jurisdiction-directory';
import type { Topology } from '../lib/config/topology';
import { type ControlDeps, controlServer } from './control-server';
import { DevTokenIssuer } from './dev-tokens';
import { Distance, type DistanceOptions } from './distance';
import { Edge } from './edge';
import {
  type DynamoEngine,
  type PostgresEngine,
  startDynamo,
  startPostgres,
  startValkey,
  type ValkeyEngine,
} from './engines';
import { createEventualTable } from './eventual-table';
import { closeServer, listen } from './http-io';
import { IssuerServer, issuerFetcher } from './issuer-server';
import { regionalHandlers } from './regional-app';
import { RegionalGateway } from './regional-gateway';
import { Replicator } from './replicator';
import { required } from './required';
import { StrongStoreLink } from './strong-store-link';

export interface LocalPlatformOptions {
  readonly topology: Topology;
  /**
   * The edge listens on this port, the controls on the next, region APIs from +10 on.
   * 0 picks free ports (tests).
   * @default 4000
   */
  readonly portBase?: number;
  /** @default 500 */
  readonly replicationDelayMs?: number;
  /**
   * How far each secondary's PostgreSQL replica lags its primary (applied with
   * `recovery_min_apply_delay`), as an Aurora global database's secondary cluster lags.
   * @default the one-way distance between the two regions
   */
  readonly replicaLagMs?: number;
  readonly distance?: DistanceOptions;
  /** @default 1000 */
  readonly healthIntervalMs?: number;
  /** @default 2 */
  readonly healthFailureThreshold?: number;
  /** Product-page TTL in each region's cache, in seconds. @default 60 */
  readonly cacheTtlSeconds?: number;
  /** Called when a replication round fails; it is retried on the next poll. @default console.warn */
  readonly onReplicationError?: (error: unknown) => void;
  /**
   * Give every region a copy of its jurisdiction's JWKS at start (as the deploy copies the
   * pool's keys into each region), so its authorizer verifies tokens without the pool's
   * region. False: no copy, so each region fetches the keys from the jurisdiction's
   * primary region, and cannot verify a token while that region is down.
   * @default true
   */
  readonly keyProvisioning?: boolean;
  /**
   * How long the pools' ID tokens are valid, as a Cognito app client's `IdTokenValidity`.
   * @default 3600 (Cognito's default)
   */
  readonly idTokenValiditySeconds?: number;
}

export interface LocalRegionHandle {
  readonly region: string;
  readonly jurisdiction: string;
  readonly url: string;
  /** The region's writer API: strong routes and `/api/health/writer` only. */
  readonly writerUrl: string;
  /** The region's DynamoDB endpoint, holding its replica of the jurisdiction's table. */
  readonly dynamoEndpoint: string;
  readonly tableName: string;
}

/** What a local store endpoint stands for: a region's RDS Proxy, or the regional cache of whichever region uses it. */
export type StoreEndpoint = { readonly store: 'strong-store'; readonly region: string } | { readonly store: 'cache' };

/** A running local platform; `stop()` ends every server and engine and deletes their data. */
export interface LocalPlatform {
  readonly edgeUrl: string;
  readonly controlUrl: string;
  readonly regions: readonly LocalRegionHandle[];
  /** Each jurisdiction's user pool endpoint, in its primary region: `<url>/<poolId>/.well-known/jwks.json`. */
  readonly issuers: Readonly<Record<string, string>>;
  /**
   * What each local store endpoint (`host:port`) stands for in AWS: the PostgreSQL servers
   * and the replicas' links are their regions' RDS Proxies, Valkey the regional caches.
   */
  readonly storeEndpoints: ReadonlyMap<string, StoreEndpoint>;
  /**
   * The proof of origin the edge adds to every request, as CloudFront does: a caller that goes
   * to a region's API directly (a canary, a test standing in for CloudFront) must send it too.
   */
  readonly originHeaders: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * The whole topology on loopback: per serving region a DynamoDB endpoint holding its
 * replica, a Valkey keyspace and an API running the Lambda handlers; per jurisdiction a
 * PostgreSQL server as its Aurora primary and a replicator between its regions only; an
 * edge standing in for CloudFront and Route 53; and dev-only controls. Calls between
 * regions (edge to region, secondary to primary) pay the published round trip, scaled.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const { topology } = options;
  const portBase = options.portBase ?? 4000;
  const port = (offset: number) => (portBase === 0 ? 0 : portBase + offset);
  const distance = Distance.fromReferenceTable(options.distance);
  for (const a of topology.servingRegions) for (const b of topology.servingRegions) distance.roundTripMs(a, b);

  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const parts = newParts(options, distance, cleanups);
    // Every port first, so a busy one is reported before any engine starts.
    await listenGateways(parts, port);
    await listenIssuers(parts, port);
    const { edge, url: edgeUrl } = await listenEdge(parts, port(0));
    parts.edge = edge;
    const control = controlServer({ ...parts, edge });
    cleanups.push(() => closeServer(control));
    const controlUrl = await listen(control, port(1), 'local controls');

    const valkey = await startEngines(parts);
    for (const jurisdiction of topology.jurisdictions) await wireJurisdiction(parts, jurisdiction, valkey);
    for (const replicator of parts.replicators.values()) {
      replicator.start();
      cleanups.push(() => replicator.stop());
    }
    edge.startHealthChecks();
    const issuers = Object.fromEntries([...parts.issuers.entries()].map(([j, issuer]) => [j, issuer.url]));
    return {
      edgeUrl,
      controlUrl,
      regions: regionHandles(parts),
      issuers,
      storeEndpoints: parts.storeEndpoints,
      originHeaders: parts.originHeaders,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The controls' view of the platform, with the maps writable: the start fills them. */
type Writable<Deps> = {
  readonly [Key in keyof Deps]: Deps[Key] extends ReadonlyMap<infer K, infer V> ? Map<K, V> : Deps[Key];
};

/**
 * The platform's parts as the start builds them up, shared by its steps: what the controls
 * act on, and more. The maps are filled as the engines start; `cleanups` undo every step,
 * in reverse, on stop.
 */
interface PlatformParts extends Writable<Omit<ControlDeps, 'edge'>> {
  readonly options: LocalPlatformOptions;
  readonly distance: Distance;
  readonly cleanups: (() => Promise<unknown>)[];
  readonly directory: JurisdictionDirectory;
  readonly dynamo: Map<string, DynamoEngine>;
  readonly storeEndpoints: Map<string, StoreEndpoint>;
  /** The edge, once listening: it runs the writer health checks strong routes follow. */
  edge?: Edge;
  /** The origin secret's header, as CloudFront sends it; one random value per platform. */
  readonly originHeaders: Readonly<Record<string, string>>;
}

function newParts(
  options: LocalPlatformOptions,
  distance: Distance,
  cleanups: (() => Promise<unknown>)[],
): PlatformParts {
  const { topology } = options;
  return {
    options,
    topology,
    distance,
    cleanups,
    tokens: new DevTokenIssuer(topology.jurisdictions, options.idTokenValiditySeconds),
    directory: jurisdictionDirectory(topology),
    gateways: new Map(),
    issuers: new Map(),
    clocks: new Map(),
    replicators: new Map(),
    postgres: new Map(),
    dynamo: new Map(),
    storeEndpoints: new Map(),
    processors: new Map(),
    primaryStores: new Map(),
    regionStores: new Map(),
    originHeaders: { [ORIGIN_PROOF_HEADER]: randomBytes(36).toString('base64url') },
  };
}

/** Each serving region's API, listening (without handlers until its stores are wired). */
async function listenGateways(parts: PlatformParts, port: (offset: number) => number): Promise<void> {
  const { topology, gateways, distance, directory, tokens } = parts;
  const originVerifier = new OriginProofVerifier(async () => Object.values(parts.originHeaders));
  let offset = 10;
  for (const jurisdiction of topology.jurisdictions) {
    const pool = tokens.pool(jurisdiction.name);
    for (const region of topology.deployOrder(jurisdiction)) {
      // The AWS authorizer's code, with this region's copy of the pool's keys (or none)
      // and a fetcher that reaches the pool's local issuer in the primary region.
      const verifier = poolVerifier({
        userPoolId: pool.userPoolId,
        clientId: pool.clientId,
        regionalKeys: (parts.options.keyProvisioning ?? true) ? tokens.jwks(jurisdiction.name) : undefined,
        fetcher: issuerFetcher(region, () => [...parts.issuers.values()], distance),
        // AWS holds a failed fetch 30 s, three of Route 53's 10 s check intervals; locally,
        // three of the platform's (faster) ones.
        fetchFailureHoldMs: 3 * (parts.options.healthIntervalMs ?? 1000),
      });
      const gateway = new RegionalGateway({
        context: { region, jurisdiction: jurisdiction.name, primaryRegion: jurisdiction.primaryRegion, directory },
        // The proof of origin against this region's replica of the secret (here, the platform's value).
        authorizer: requireOriginProof(
          originVerifier,
          createTokenAuthorizer({
            verifier,
            jurisdiction: jurisdiction.name,
            directory,
            isUnavailable: keysUnavailable,
          }),
        ),
        distance,
        writerRegion: () => parts.edge?.resolveWriter(region, jurisdiction.name) ?? jurisdiction.primaryRegion,
        writerUrlOf: (target) => gateways.get(target)?.writerUrl,
      });
      gateways.set(region, gateway);
      parts.cleanups.push(() => gateway.close());
      // Its writer API 100 ports above the public one (`writer.<jurisdiction>.api` in AWS).
      await gateway.listen(port(offset), port(offset + 100));
      offset++;
    }
  }
}

/** Each jurisdiction's user pool endpoint, in its primary region, down when that region is. */
async function listenIssuers(parts: PlatformParts, port: (offset: number) => number): Promise<void> {
  let offset = 10 + parts.topology.servingRegions.length;
  for (const jurisdiction of parts.topology.jurisdictions) {
    const primary = required(parts.gateways, jurisdiction.primaryRegion, 'gateway for region');
    const issuer = new IssuerServer({
      pool: parts.tokens.pool(jurisdiction.name),
      tokens: parts.tokens,
      regionDown: () => primary.down,
    });
    parts.issuers.set(jurisdiction.name, issuer);
    parts.cleanups.push(() => issuer.close());
    await issuer.listen(port(offset++));
  }
}

async function listenEdge(parts: PlatformParts, port: number): Promise<{ edge: Edge; url: string }> {
  const regionUrls = Object.fromEntries([...parts.gateways.entries()].map(([region, g]) => [region, g.url]));
  const writerUrls = Object.fromEntries([...parts.gateways.entries()].map(([region, g]) => [region, g.writerUrl]));
  const edge = new Edge({
    topology: parts.topology,
    distance: parts.distance,
    regionUrls: () => regionUrls,
    writerUrls: () => writerUrls,
    originHeaders: parts.originHeaders,
    healthIntervalMs: parts.options.healthIntervalMs,
    failureThreshold: parts.options.healthFailureThreshold,
  });
  parts.cleanups.push(() => edge.close());
  return { edge, url: await edge.listen(port) };
}

/** Valkey, a PostgreSQL server per jurisdiction and a DynamoDB endpoint per region. */
async function startEngines(parts: PlatformParts): Promise<ValkeyEngine> {
  const { topology, cleanups } = parts;
  const valkey: ValkeyEngine = await startValkey();
  cleanups.push(() => valkey.close());
  parts.storeEndpoints.set(`${valkey.host}:${valkey.port}`, { store: 'cache' });
  // Wait for every start to settle, so a failed one leaves none running unseen.
  const started = await Promise.allSettled([
    ...topology.jurisdictions.map(async (j) => {
      const engine = await startPostgres();
      cleanups.push(() => engine.destroy());
      parts.postgres.set(j.name, engine);
    }),
    ...topology.servingRegions.map(async (region) => {
      const engine = await startDynamo();
      cleanups.push(() => engine.close());
      parts.dynamo.set(region, engine);
    }),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return valkey;
}

type Jurisdiction = Topology['jurisdictions'][number];

/**
 * A jurisdiction's database and card processor, its regions wired over them, and a
 * replicator between its regions.
 */
async function wireJurisdiction(parts: PlatformParts, jurisdiction: Jurisdiction, valkey: ValkeyEngine): Promise<void> {
  const pg = required(parts.postgres, jurisdiction.name, 'PostgreSQL engine for jurisdiction');
  const database = await pg.createDatabase(`commerce_${jurisdiction.name}`);
  const payments = new RecordingCardProcessor();
  parts.processors.set(jurisdiction.name, payments);
  const shared: JurisdictionStores = {
    jurisdiction,
    pg,
    database,
    payments,
    valkey,
    tableName: `${parts.topology.config.appName}-${jurisdiction.name}-eventual`,
  };
  const replicas: ReplicaTable[] = [];
  for (const region of parts.topology.deployOrder(jurisdiction)) replicas.push(await wireRegion(parts, shared, region));
  const replicator = new Replicator({
    jurisdiction: jurisdiction.name,
    replicas,
    delayMs: parts.options.replicationDelayMs,
    onError:
      parts.options.onReplicationError ?? ((error) => console.warn(`replication (${jurisdiction.name}):`, error)),
  });
  parts.replicators.set(jurisdiction.name, replicator);
}

/** What a jurisdiction's regions share. */
interface JurisdictionStores {
  readonly jurisdiction: Jurisdiction;
  readonly pg: PostgresEngine;
  readonly database: string;
  readonly payments: RecordingCardProcessor;
  readonly valkey: ValkeyEngine;
  readonly tableName: string;
}

type ReplicaTable = ConstructorParameters<typeof Replicator>[0]['replicas'][number];

/**
 * A region's eventual table, its connection to the jurisdiction's strong store (migrated
 * from the primary), its cache keyspace, and its API's handlers over them.
 */
async function wireRegion(parts: PlatformParts, shared: JurisdictionStores, region: string): Promise<ReplicaTable> {
  const { jurisdiction, database, payments, valkey, tableName } = shared;
  const client = new DynamoDBClient({
    endpoint: required(parts.dynamo, region, 'DynamoDB engine for region').endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createEventualTable(client, tableName);
  const replica = { region, documents: DynamoDBDocumentClient.from(client), tableName };
  const { replicaLagMs, ...address } = await strongStoreAddress(parts, shared, region);
  parts.storeEndpoints.set(`${address.host}:${address.port}`, { store: 'strong-store', region });
  const strong = StrongStore.connect({
    ...address,
    database,
    tls: false,
    maxConnections: 10,
    connectTimeoutMs: 5000,
  });
  parts.regionStores.set(region, { store: strong, replicaLagMs });
  if (region === jurisdiction.primaryRegion) {
    await strong.migrate();
    parts.primaryStores.set(jurisdiction.name, strong);
  }
  const context = {
    region,
    jurisdiction: jurisdiction.name,
    primaryRegion: jurisdiction.primaryRegion,
    directory: parts.directory,
  };
  const cache = ProductCache.connect({ host: valkey.host, port: valkey.port, keyPrefix: `${region}:` });
  parts.cleanups.push(() => Promise.all([strong.close(), cache.close()]));
  const stores = { eventual: new EventualStore(client, tableName), strong, cache, payments };
  const clock = () => parts.clocks.get(region) ?? new Date();
  required(parts.gateways, region, 'gateway for region').handlers = regionalHandlers(
    context,
    stores,
    clock,
    parts.options.cacheTtlSeconds,
  );
  return replica;
}

/**
 * How `region` reaches the jurisdiction's strong store. The primary: its PostgreSQL server,
 * the writer. A secondary: its own hot standby of that server, as its Aurora replica: read-only
 * (a write fails with SQLSTATE 25006, as on a replica), in recovery, and behind by the
 * replica lag; it streams from the primary over a link that is cut while the primary region is
 * down, so a lost primary region leaves the secondary its last copy, growing stale.
 */
async function strongStoreAddress(
  parts: PlatformParts,
  shared: JurisdictionStores,
  region: string,
): Promise<{ host: string; port: number; user: string; password: string; replicaLagMs: number }> {
  const { jurisdiction, pg } = shared;
  if (region === jurisdiction.primaryRegion)
    return { host: pg.host, port: pg.port, user: pg.user, password: pg.password, replicaLagMs: 0 };
  const link = new StrongStoreLink({ host: pg.host, port: pg.port });
  await link.listen();
  parts.cleanups.push(() => link.close());
  const primary = required(parts.gateways, jurisdiction.primaryRegion, 'gateway for region');
  link.setCut(primary.down);
  primary.onDownChange((down) => link.setCut(down));
  const lag = parts.options.replicaLagMs ?? parts.distance.roundTripMs(jurisdiction.primaryRegion, region) / 2;
  const standby = await pg.startStandby({ source: { host: link.host, port: link.port }, applyDelayMs: lag });
  parts.cleanups.push(() => standby.destroy());
  return { host: standby.host, port: standby.port, user: standby.user, password: standby.password, replicaLagMs: lag };
}

function regionHandles(parts: PlatformParts): LocalRegionHandle[] {
  const { topology } = parts;
  return [...parts.gateways.entries()].map(([region, g]) => {
    const jurisdiction = topology.jurisdictionOf(region as never).name;
    return {
      region,
      jurisdiction,
      url: g.url,
      writerUrl: g.writerUrl,
      dynamoEndpoint: required(parts.dynamo, region, 'DynamoDB engine for region').endpoint,
      tableName: `${topology.config.appName}-${jurisdiction}-eventual`,
    };
  });
}
