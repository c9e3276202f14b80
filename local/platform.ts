import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProductCache } from '../lambda/cache/product-cache';
import { RecordingCardProcessor } from '../lambda/payments/card-processor';
import { EventualStore } from '../lambda/stores/eventual-store';
import { StrongStore } from '../lambda/stores/strong-store';
import { jurisdictionDirectory } from '../lib/config/jurisdiction-directory';
import type { Topology } from '../lib/config/topology';
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
import { closeServer, listen, readBody, send } from './http-io';
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

interface ControlDeps {
  readonly topology: Topology;
  readonly tokens: DevTokenIssuer;
  readonly gateways: ReadonlyMap<string, RegionalGateway>;
  readonly postgres: ReadonlyMap<string, PostgresEngine>;
  readonly replicators: ReadonlyMap<string, Replicator>;
  /** Each jurisdiction's card processor, which records every capture. */
  readonly processors: ReadonlyMap<string, RecordingCardProcessor>;
  /** Each jurisdiction's strong store as its primary region reaches it. */
  readonly primaryStores: ReadonlyMap<string, StrongStore>;
  readonly clocks: Map<string, Date>;
  readonly edge: Edge;
}

/**
 * Dev-only controls (never part of the CDK app): tokens, regions down and up, a
 * jurisdiction's strong store stopped and started, replication paused and resumed, a
 * region's clock pinned (to replay the design's worked examples to the second), what
 * each jurisdiction's card processor captured (to count double charges) and a SKU's stock
 * as the strong store has it (no cache in between).
 */
function controlServer(deps: ControlDeps): Server {
  const routes: [string, RegExp, (match: RegExpExecArray, body: any) => Promise<[number, unknown]>][] = [
    ['GET', /^\/$/, async () => [200, status(deps)]],
    [
      'POST',
      /^\/tokens$/,
      async (_m, body) => {
        const jurisdiction = deps.topology.jurisdictions.find((j) => j.name === body?.jurisdiction);
        if (!jurisdiction || typeof body?.sub !== 'string' || body.sub === '') {
          return [
            400,
            problem('body', `send {"jurisdiction": one of ${names(deps)}, "sub": "<user id>", "admin"?: true}`),
          ];
        }
        return [200, { token: deps.tokens.issue(jurisdiction.name, { sub: body.sub, admin: body.admin === true }) }];
      },
    ],
    [
      'POST',
      /^\/regions\/([a-z0-9-]+)\/(down|up)$/,
      async (m) => {
        const gateway = deps.gateways.get(m[1] as string);
        if (!gateway) return [404, problem('region', `no serving region ${m[1]}`)];
        gateway.down = m[2] === 'down';
        return [200, status(deps)];
      },
    ],
    [
      'POST',
      /^\/regions\/([a-z0-9-]+)\/clock$/,
      async (m, body) => {
        if (!deps.gateways.has(m[1] as string)) return [404, problem('region', `no serving region ${m[1]}`)];
        const at = new Date(body?.at);
        if (typeof body?.at !== 'string' || Number.isNaN(at.getTime())) {
          return [400, problem('at', 'send {"at": "<ISO 8601 time>"}')];
        }
        deps.clocks.set(m[1] as string, at);
        return [200, { region: m[1], clock: at.toISOString() }];
      },
    ],
    [
      'DELETE',
      /^\/regions\/([a-z0-9-]+)\/clock$/,
      async (m) => {
        deps.clocks.delete(m[1] as string);
        return [200, { region: m[1], clock: 'real' }];
      },
    ],
    [
      'POST',
      /^\/jurisdictions\/([a-z0-9-]+)\/strong-store\/(stop|start)$/,
      async (m) => {
        const engine = deps.postgres.get(m[1] as string);
        if (!engine) return [404, problem('jurisdiction', `no jurisdiction ${m[1]}; have ${names(deps)}`)];
        await (m[2] === 'stop' ? engine.stop() : engine.start());
        return [200, { jurisdiction: m[1], strongStore: m[2] === 'stop' ? 'stopped' : 'running' }];
      },
    ],
    [
      'GET',
      /^\/payments$/,
      async () => [
        200,
        Object.fromEntries(
          [...deps.processors.entries()].map(([j, processor]) => [j, { captures: processor.captures }]),
        ),
      ],
    ],
    [
      'GET',
      /^\/jurisdictions\/([a-z0-9-]+)\/inventory\/([A-Za-z0-9_.-]+)$/,
      async (m) => {
        const store = deps.primaryStores.get(m[1] as string);
        if (!store) return [404, problem('jurisdiction', `no jurisdiction ${m[1]}; have ${names(deps)}`)];
        const row = await store.getInventory(m[2] as string);
        if (!row) return [404, problem('sku', `no inventory for ${m[2]} in ${m[1]}`)];
        return [200, { jurisdiction: m[1], ...row }];
      },
    ],
    [
      'POST',
      /^\/replication\/(pause|resume)$/,
      async (m) => {
        for (const replicator of deps.replicators.values()) {
          if (m[1] === 'pause') replicator.pause();
          else replicator.resume();
        }
        return [200, status(deps)];
      },
    ],
  ];
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    // Only local tools: a web page in the developer's browser (another Origin, or a
    // rebound DNS name in Host) must not mint tokens or take regions down.
    const host = request.headers.host ?? '';
    if (request.headers.origin || !/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host)) {
      return send(response, 403, problem('host', 'the controls answer local tools on 127.0.0.1 only'));
    }
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const route = routes.find(([method, pattern]) => method === request.method && pattern.test(path));
    if (!route)
      return send(response, 404, problem('path', `no control ${request.method} ${path}; GET / lists the state`));
    readBody(request)
      .then(async (text) => {
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          return send(response, 400, problem('body', 'body is not valid JSON'));
        }
        const [code, answer] = await route[2](route[1].exec(path) as RegExpExecArray, body);
        send(response, code, answer);
      })
      .catch((error: unknown) => send(response, 500, problem('control', (error as Error).message)));
  });
}

function status(deps: ControlDeps) {
  return {
    deploymentModel: deps.topology.deploymentModel,
    regions: Object.fromEntries(
      [...deps.gateways.entries()].map(([region, g]) => [
        region,
        {
          url: g.url,
          down: g.down,
          healthyAtEdge: deps.edge.isHealthy(region),
          clock: deps.clocks.get(region) ?? 'real',
        },
      ]),
    ),
    replication: Object.fromEntries(
      [...deps.replicators.entries()].map(([j, r]) => [
        j,
        { paused: r.isPaused, backlog: r.backlog, delayMs: r.delayMs },
      ]),
    ),
  };
}

function problem(field: string, message: string) {
  return { error: { code: 'BAD_CONTROL_REQUEST', message, field } };
}

function names(deps: ControlDeps): string {
  return deps.topology.jurisdictions.map((j) => j.name).join(', ');
}
