import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ProductCache } from '../../lambda/cache/product-cache';
import { RecordingCardProcessor } from '../../lambda/payments/card-processor';
import { type ApiDomain, matchRoute } from '../../lambda/shared/api-contract';
import type { DomainHandler } from '../../lambda/shared/instrumented';
import type { RegionContext } from '../../lambda/shared/region-context';
import { EventualStore } from '../../lambda/stores/eventual-store';
import { StrongStore } from '../../lambda/stores/strong-store';
import { apiGatewayEvent, lambdaContext } from '../../local/api-gateway-event';
import { localIssuerOf } from '../../local/dev-tokens';
import {
  type DynamoEngine,
  type PostgresEngine,
  startDynamo,
  startPostgres,
  startValkey,
  type ValkeyEngine,
} from '../../local/engines';
import { createEventualTable } from '../../local/eventual-table';
import { regionalHandlers } from '../../local/regional-app';
import { canonicalJson } from '../../local/replicator';
import { expectDocumented } from './openapi';

export interface Engines {
  readonly postgres: PostgresEngine;
  readonly dynamo: DynamoEngine;
  readonly valkey: ValkeyEngine;
  close(): Promise<void>;
}

/** PostgreSQL, a DynamoDB API server and Valkey, started for one test file. */
export async function startEngines(): Promise<Engines> {
  const [postgres, dynamo, valkey] = await Promise.all([startPostgres(), startDynamo(), startValkey()]);
  return {
    postgres,
    dynamo,
    valkey,
    close: async () => {
      await Promise.all([postgres.destroy(), dynamo.close(), valkey.close()]);
    },
  };
}

export interface User {
  readonly sub: string;
  readonly groups?: readonly string[];
}

export interface ApiCall {
  readonly body?: unknown;
  /** Sent as is, instead of `body` as JSON. */
  readonly rawBody?: string;
  readonly user?: User;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: any;
  /** Which region's function answered (strong routes go to the primary). */
  readonly answeredBy: string;
}

/** One region of the jurisdiction: its stores (its own table replica and cache) and functions. */
export interface LocalRegion {
  readonly context: RegionContext;
  readonly eventual: EventualStore;
  readonly strong: StrongStore;
  readonly cache: ProductCache;
  readonly handlers: Readonly<Record<ApiDomain, DomainHandler>>;
  readonly tableName: string;
}

export interface LocalJurisdictionOptions {
  readonly name: string;
  /** Regions; the first is the primary. */
  readonly regions: readonly string[];
  /** Each region's clock; tests pin it to replay the worked examples. */
  readonly clock?: (region: string) => Date;
  /** Connections each region's strong-store pool may open. @default 20 */
  readonly maxConnections?: number;
}

/**
 * A jurisdiction of several regions on real engines, called over the HTTP contract:
 * requests become API Gateway events for the same domain handlers that run in Lambda.
 * Like the deployed API, strong routes taken in a secondary region are forwarded to the
 * primary region's functions. Each region has its own DynamoDB table, standing in for its
 * replica of the global table; `replicate()` exchanges their items the way global tables
 * do (whole items, last writer wins). All regions share the primary's PostgreSQL database,
 * as the Aurora secondaries are read replicas of it.
 */
export class LocalJurisdiction {
  static async create(engines: Engines, options: LocalJurisdictionOptions): Promise<LocalJurisdiction> {
    const database = await engines.postgres.createDatabase(`commerce_${options.name}`);
    const dynamoClient = new DynamoDBClient({
      endpoint: engines.dynamo.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const payments = new RecordingCardProcessor();
    const [primaryRegion] = options.regions;
    if (primaryRegion === undefined) throw new Error(`jurisdiction ${options.name} has no regions`);
    const regions = new Map<string, LocalRegion>();
    for (const region of options.regions) {
      const tableName = `${options.name}-eventual-${region}`;
      await createEventualTable(dynamoClient, tableName);
      const context: RegionContext = {
        region,
        jurisdiction: options.name,
        primaryRegion,
        directory: { byPrimaryRegion: { [primaryRegion]: options.name }, apiHosts: {} },
      };
      const eventual = new EventualStore(dynamoClient, tableName);
      const strong = StrongStore.connect({
        host: engines.postgres.host,
        port: engines.postgres.port,
        user: engines.postgres.user,
        password: engines.postgres.password,
        database,
        tls: false,
        maxConnections: options.maxConnections ?? 20,
        // One process stands in for many Lambda environments here, so requests queue for
        // a pooled connection; the wait must not be mistaken for an unreachable database.
        connectTimeoutMs: 10_000,
      });
      const cache = ProductCache.connect({
        host: engines.valkey.host,
        port: engines.valkey.port,
        keyPrefix: `${region}:`,
      });
      const regionClock = options.clock;
      const clock = regionClock ? () => regionClock(region) : undefined;
      const handlers = regionalHandlers(context, { eventual, strong, cache, payments }, clock);
      regions.set(region, { context, eventual, strong, cache, handlers, tableName });
    }
    const jurisdiction = new LocalJurisdiction(options.name, primaryRegion, regions, dynamoClient, payments);
    await jurisdiction.region(primaryRegion).strong.migrate();
    return jurisdiction;
  }

  private readonly documents: DynamoDBDocumentClient;
  /** What `replicate` last made every replica hold, per item key. */
  private readonly synced = new Map<string, string | null>();

  private constructor(
    readonly name: string,
    readonly primaryRegion: string,
    readonly regions: ReadonlyMap<string, LocalRegion>,
    dynamoClient: DynamoDBClient,
    /** Every capture the jurisdiction's card processor made. */
    readonly payments: RecordingCardProcessor,
  ) {
    this.documents = DynamoDBDocumentClient.from(dynamoClient);
  }

  region(name: string): LocalRegion {
    const region = this.regions.get(name);
    if (!region) throw new Error(`${name} is not a region of ${this.name}`);
    return region;
  }

  /** One HTTP request to `region`'s API, as API Gateway would hand it to the function. */
  async request(region: string, method: string, path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    const [rawPath, rawQueryString = ''] = path.split('?');
    if (rawPath === undefined) throw new Error(`no path in ${path}`);
    const match = matchRoute(method, rawPath);
    // API Gateway's own answers, before any function runs.
    const gateway = (status: number, message: string): ApiAnswer => {
      expectDocumented(method, rawPath, status, { message });
      return { status, headers: {}, body: { message }, answeredBy: 'gateway' };
    };
    if (!match) return gateway(404, 'Not Found');
    if (!match.route.public && !call.user) return gateway(401, 'Unauthorized');
    const target = match.route.strong ? this.primaryRegion : region;
    const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    const headers: Record<string, string> = {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...Object.fromEntries(Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    const claims = call.user
      ? { sub: call.user.sub, groups: call.user.groups, iss: localIssuerOf(this.name, this.primaryRegion) }
      : undefined;
    const event = apiGatewayEvent({ method, rawPath, rawQueryString, headers, body }, match, claims);
    const handler = this.region(target).handlers[match.route.domain];
    const response = (await handler(
      event,
      lambdaContext(`${match.route.domain}-${target}`),
    )) as APIGatewayProxyStructuredResultV2;
    const answer = {
      status: response.statusCode ?? 200,
      headers: (response.headers ?? {}) as Record<string, string>,
      body: response.body ? JSON.parse(response.body) : undefined,
      answeredBy: target,
    };
    expectDocumented(method, rawPath, answer.status, answer.body);
    return answer;
  }

  /**
   * Exchanges items between the regions' tables like a global table: an item changed in
   * one region since the last exchange replaces the others' copies whole (or deletes
   * them). When several regions changed the same item, one whole item wins, as DynamoDB's
   * last-writer-wins does; the platform's own design never lets that happen for merged data.
   * (Delayed, reordered and duplicated delivery is covered by the merge-rule properties.)
   */
  async replicate(): Promise<void> {
    const regions = [...this.regions.values()];
    const snapshots = await Promise.all(regions.map((r) => this.scan(r.tableName)));
    const keys = new Set(snapshots.flatMap((snapshot) => [...snapshot.keys()]));
    for (const key of keys) {
      const base = this.synced.get(key) ?? null;
      const versions = snapshots.map((snapshot) => snapshot.get(key) ?? null);
      // The last region that changed the item wins; none changed it, nothing to exchange.
      const winner = versions.filter((version) => version !== base).at(-1);
      if (winner === undefined) continue;
      for (const [index, region] of regions.entries()) {
        if (versions[index] === winner) continue;
        const [pk, sk] = JSON.parse(key) as [string, string];
        if (winner === null) {
          await this.documents.send(new DeleteCommand({ TableName: region.tableName, Key: { pk, sk } }));
        } else {
          await this.documents.send(new PutCommand({ TableName: region.tableName, Item: JSON.parse(winner) }));
        }
      }
      this.synced.set(key, winner);
    }
  }

  async close(): Promise<void> {
    for (const region of this.regions.values()) {
      await region.strong.close();
      await region.cache.close();
    }
  }

  private async scan(tableName: string): Promise<Map<string, string>> {
    const items = new Map<string, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) items.set(JSON.stringify([item.pk, item.sk]), canonicalJson(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
