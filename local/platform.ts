import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProductCache } from '../lambda/cache/product-cache';
import { RecordingCardProcessor } from '../lambda/payments/card-processor';
import { EventualStore } from '../lambda/stores/eventual-store';
import { StrongStore } from '../lambda/stores/strong-store';
import { jurisdictionDirectory } from '../lib/config/jurisdiction-directory';
import type { Topology } from '../lib/config/topology';
import { controlServer } from './control-server';
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
import { regionalHandlers } from './regional-app';
import { RegionalGateway } from './regional-gateway';
import { Replicator } from './replicator';

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
  readonly distance?: DistanceOptions;
  /** @default 1000 */
  readonly healthIntervalMs?: number;
  /** @default 2 */
  readonly healthFailureThreshold?: number;
  /** Product-page TTL in each region's cache, in seconds. @default 60 */
  readonly cacheTtlSeconds?: number;
  /** Called when a replication round fails; it is retried on the next poll. @default console.warn */
  readonly onReplicationError?: (error: unknown) => void;
}

export interface LocalRegionHandle {
  readonly region: string;
  readonly jurisdiction: string;
  readonly url: string;
  /** The region's DynamoDB endpoint, holding its replica of the jurisdiction's table. */
  readonly dynamoEndpoint: string;
  readonly tableName: string;
}

/** A running local platform; `stop()` ends every server and engine and deletes their data. */
export interface LocalPlatform {
  readonly edgeUrl: string;
  readonly controlUrl: string;
  readonly regions: readonly LocalRegionHandle[];
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
    const tokens = new DevTokenIssuer();
    const directory = { ...jurisdictionDirectory(topology), localIssuers: true };
    // Every port first, so a busy one is reported before any engine starts.
    const gateways = new Map<string, RegionalGateway>();
    const clocks = new Map<string, Date>();
    let offset = 10;
    for (const jurisdiction of topology.jurisdictions) {
      for (const region of topology.deployOrder(jurisdiction)) {
        const gateway = new RegionalGateway({
          context: { region, jurisdiction: jurisdiction.name, primaryRegion: jurisdiction.primaryRegion, directory },
          tokens,
          distance,
          primaryUrl: () => gateways.get(jurisdiction.primaryRegion)?.url,
        });
        gateways.set(region, gateway);
        cleanups.push(() => gateway.close());
        await gateway.listen(port(offset++));
      }
    }
    const regionUrls = Object.fromEntries([...gateways.entries()].map(([region, g]) => [region, g.url]));
    const edge = new Edge({
      topology,
      distance,
      regionUrls: () => regionUrls,
      healthIntervalMs: options.healthIntervalMs,
      failureThreshold: options.healthFailureThreshold,
    });
    cleanups.push(() => edge.close());
    const edgeUrl = await edge.listen(port(0));
    const replicators = new Map<string, Replicator>();
    const postgres = new Map<string, PostgresEngine>();
    const processors = new Map<string, RecordingCardProcessor>();
    const primaryStores = new Map<string, StrongStore>();
    const control = controlServer({
      topology,
      tokens,
      gateways,
      postgres,
      replicators,
      processors,
      primaryStores,
      clocks,
      edge,
    });
    cleanups.push(() => closeServer(control));
    const controlUrl = await listen(control, port(1), 'local controls');

    const valkey: ValkeyEngine = await startValkey();
    cleanups.push(() => valkey.close());
    const dynamo = new Map<string, DynamoEngine>();
    // Wait for every start to settle, so a failed one leaves none running unseen.
    const started = await Promise.allSettled([
      ...topology.jurisdictions.map(async (j) => {
        const engine = await startPostgres();
        cleanups.push(() => engine.destroy());
        postgres.set(j.name, engine);
      }),
      ...topology.servingRegions.map(async (region) => {
        const engine = await startDynamo();
        cleanups.push(() => engine.close());
        dynamo.set(region, engine);
      }),
    ]);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;

    for (const jurisdiction of topology.jurisdictions) {
      const pg = postgres.get(jurisdiction.name) as PostgresEngine;
      const database = await pg.createDatabase(`commerce_${jurisdiction.name}`);
      const payments = new RecordingCardProcessor();
      processors.set(jurisdiction.name, payments);
      const tableName = `${topology.config.appName}-${jurisdiction.name}-eventual`;
      const replicas = [];
      for (const region of topology.deployOrder(jurisdiction)) {
        const client = new DynamoDBClient({
          endpoint: (dynamo.get(region) as DynamoEngine).endpoint,
          region,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        });
        await createEventualTable(client, tableName);
        replicas.push({ region, documents: DynamoDBDocumentClient.from(client), tableName });
        const strong = StrongStore.connect({
          host: pg.host,
          port: pg.port,
          user: pg.user,
          password: pg.password,
          database,
          tls: false,
          maxConnections: 10,
          connectTimeoutMs: 5000,
        });
        if (region === jurisdiction.primaryRegion) {
          await strong.migrate();
          primaryStores.set(jurisdiction.name, strong);
        }
        const context = {
          region,
          jurisdiction: jurisdiction.name,
          primaryRegion: jurisdiction.primaryRegion,
          directory,
        };
        const cache = ProductCache.connect({ host: valkey.host, port: valkey.port, keyPrefix: `${region}:` });
        cleanups.push(() => Promise.all([strong.close(), cache.close()]));
        const stores = { eventual: new EventualStore(client, tableName), strong, cache, payments };
        const clock = () => clocks.get(region) ?? new Date();
        (gateways.get(region) as RegionalGateway).handlers = regionalHandlers(
          context,
          stores,
          clock,
          options.cacheTtlSeconds,
        );
      }
      const replicator = new Replicator({
        jurisdiction: jurisdiction.name,
        replicas,
        delayMs: options.replicationDelayMs,
        onError: options.onReplicationError ?? ((error) => console.warn(`replication (${jurisdiction.name}):`, error)),
      });
      replicators.set(jurisdiction.name, replicator);
    }

    for (const replicator of replicators.values()) {
      replicator.start();
      cleanups.push(() => replicator.stop());
    }
    edge.startHealthChecks();

    return {
      edgeUrl,
      controlUrl,
      regions: [...gateways.entries()].map(([region, g]) => {
        const jurisdiction = topology.jurisdictionOf(region as never).name;
        return {
          region,
          jurisdiction,
          url: g.url,
          dynamoEndpoint: (dynamo.get(region) as DynamoEngine).endpoint,
          tableName: `${topology.config.appName}-${jurisdiction}-eventual`,
        };
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
