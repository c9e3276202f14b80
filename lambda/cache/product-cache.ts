import { Cluster, Valkey } from 'iovalkey';
import { trackConnection } from '../shared/connections';
import { type FunctionEnvironment, optionalEnv, requiredEnv } from '../shared/environment';

/** How the functions reach the region's Valkey cache. */
export interface CacheConnection {
  readonly host: string;
  readonly port: number;
  /**
   * ElastiCache Serverless speaks the cluster protocol over TLS only; a local
   * `valkey-server`/`redis-server` is a single plain-text node.
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * Longest wait for one cache command before the caller falls back to the store.
   * @default 250
   */
  readonly commandTimeoutMs?: number;
  /**
   * Prefix of every key; lets several local regions share one server like separate caches.
   * @default no prefix
   */
  readonly keyPrefix?: string;
}

type CacheClient = Pick<Valkey, 'get' | 'set' | 'del' | 'ping' | 'quit' | 'disconnect'>;

/**
 * The regional product cache (cache-aside, docs/design.md#data-stores-and-merge-rules). Best effort by design: a cache
 * that is slow or down must never fail a request, so every call, connecting included,
 * has a short deadline, and errors surface as `CacheUnavailableError` for the caller to
 * log and count, then read or write the store directly.
 */
export class ProductCache {
  /** `CACHE_ENDPOINT` (`host:port`); `CACHE_SERVERLESS=false` for a single local node. */
  static fromEnvironment(env: FunctionEnvironment): ProductCache {
    const endpoint = requiredEnv(env, 'CACHE_ENDPOINT');
    const separator = endpoint.lastIndexOf(':');
    const port = Number(endpoint.slice(separator + 1));
    if (separator < 1 || !Number.isInteger(port)) throw new Error(`CACHE_ENDPOINT must be host:port, got ${endpoint}`);
    return ProductCache.connect({
      host: endpoint.slice(0, separator),
      port,
      serverless: optionalEnv(env, 'CACHE_SERVERLESS') !== 'false',
    });
  }

  static connect(connection: CacheConnection): ProductCache {
    const commandTimeout = connection.commandTimeoutMs ?? 250;
    const options = {
      commandTimeout,
      connectTimeout: 1000,
      maxRetriesPerRequest: 1,
      // No queue of commands while disconnected: in cluster mode it is never flushed while
      // the cache is down, and callers would hang. `call` waits briefly for a connection.
      enableOfflineQueue: false,
      ...(connection.keyPrefix ? { keyPrefix: connection.keyPrefix } : {}),
      // Reconnect soon after an outage so the cache comes back by itself.
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    };
    const client: CacheClient = connection.serverless
      ? new Cluster([{ host: connection.host, port: connection.port }], {
          // Serverless hands out node addresses that only resolve with TLS SNI of the endpoint.
          dnsLookup: (address, callback) => callback(null, address),
          redisOptions: { ...options, tls: {} },
          clusterRetryStrategy: options.retryStrategy,
          enableOfflineQueue: false,
        })
      : new Valkey({ ...options, host: connection.host, port: connection.port });
    // Connection errors are reported through the failing commands; without a listener
    // they would also be thrown as unhandled 'error' events.
    (client as unknown as NodeJS.EventEmitter).on('error', () => undefined);
    return new ProductCache(client, commandTimeout);
  }

  private readonly untrack: () => void;
  private readyWait?: Promise<void>;

  constructor(
    private readonly client: CacheClient,
    /** The longest any call waits, connecting included, before it counts as unavailable. */
    private readonly timeoutMs = 250,
  ) {
    this.untrack = trackConnection(() => this.close());
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.call(() => this.client.get(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.call(() => this.client.set(key, value, 'EX', ttlSeconds));
  }

  async invalidate(key: string): Promise<void> {
    await this.call(() => this.client.del(key));
  }

  async probe(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.untrack();
    this.client.disconnect();
  }

  /** Runs a command within the deadline, whatever state the connection is in. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.ready().then(command),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (error) {
      throw new CacheUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once connected; one shared wait, so an outage adds no listener per request. */
  private ready(): Promise<void> {
    const client = this.client as unknown as NodeJS.EventEmitter & { status: string };
    if (client.status === 'ready') return Promise.resolve();
    this.readyWait ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        this.readyWait = undefined;
        resolve();
      });
    });
    return this.readyWait;
  }
}

export class CacheUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`The regional cache did not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CacheUnavailableError';
  }
}

/** One cache entry per product page; keys carry the jurisdiction, whose catalog it is. */
export function productCacheKey(jurisdiction: string, sku: string): string {
  return `product:${jurisdiction}:${sku}`;
}
