import { AsyncLocalStorage } from 'node:async_hooks';
import { Client as SmithyClient } from '@smithy/core/client';
import { Cluster, Valkey } from 'iovalkey';
import { Client as PgClient, Pool } from 'pg';

/** Which deployed function the code running now stands for: its role in a region. */
export interface FunctionScope {
  readonly region: string;
  /** `api:<domain>`, `authorizer`, `signing-keys`, `migrations`, `canary-identity`. */
  readonly function: string;
}

/** What a function did that AWS would authorize or route, as the code did it locally. */
export type Observation =
  /** An AWS SDK command, seen at the client's middleware stack. */
  | {
      readonly kind: 'sdk';
      readonly client: string;
      readonly operation: string;
      readonly input: Readonly<Record<string, unknown>>;
      readonly region: string;
      /** `host:port` of the AWS endpoint the SDK resolves for the client's region. */
      readonly endpoint: string;
    }
  /** A PostgreSQL session asked of a pool or client (in AWS: an IAM-authenticated connection). */
  | {
      readonly kind: 'postgres';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      /** Signed in with an RDS IAM token (a token maker, or a token as the password). */
      readonly iam: boolean;
    }
  /** A Valkey command sent. */
  | { readonly kind: 'valkey'; readonly host: string; readonly port: number }
  /** An HTTP request made with `fetch`. */
  | { readonly kind: 'http'; readonly host: string; readonly port: number };

export interface RecordedCall {
  readonly scope: FunctionScope;
  readonly observation: Observation;
}

/**
 * Answers an SDK command instead of AWS, for services with no local engine. Returning
 * undefined sends the command on (to a local engine such as dynalite).
 */
export type StandIn = (
  client: string,
  operation: string,
  input: Record<string, unknown>,
  context: { readonly region: string; readonly customEndpoint: boolean },
) => Promise<unknown> | undefined;

/** Answers a `fetch` made under `runAs` instead of the network; undefined lets it through. */
export type FetchStandIn = (url: URL) => Response | undefined;

export interface StandIns {
  readonly sdk?: StandIn;
  readonly fetch?: FetchStandIn;
  /** Refuses a PostgreSQL connection made under `runAs` to a host with no server here. */
  readonly postgres?: (host: string) => Error | undefined;
}

const scopes = new AsyncLocalStorage<FunctionScope>();

/** Runs `work` as `scope`: every call it makes, awaited or not, is recorded for that function. */
export function runAs<T>(scope: FunctionScope, work: () => T): T {
  return scopes.run(scope, work);
}

/**
 * Records, while installed, every AWS SDK command (at each client's middleware stack),
 * PostgreSQL session, Valkey command and `fetch` that code running under `runAs` makes.
 * One recorder at a time; `uninstall` restores every patched method.
 */
export class CallRecorder {
  private static active: CallRecorder | undefined;
  readonly calls: RecordedCall[] = [];
  private readonly restore: (() => void)[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly standIns: StandIns = {}) {}

  install(): this {
    if (CallRecorder.active) throw new Error('a CallRecorder is already installed');
    CallRecorder.active = this;
    this.patchSdk();
    this.patchPostgres();
    this.patchValkey();
    this.patchFetch();
    return this;
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
    if (CallRecorder.active === this) CallRecorder.active = undefined;
  }

  private record(observation: Observation): void {
    const scope = scopes.getStore();
    if (!scope) return;
    const key = JSON.stringify({ scope, observation });
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.calls.push({ scope, observation });
  }

  private patch<T extends object, K extends keyof T>(target: T, key: K, wrap: (original: T[K]) => T[K]): void {
    const original = target[key];
    target[key] = wrap(original);
    this.restore.push(() => {
      target[key] = original;
    });
  }

  /**
   * Every smithy client shares `Client.prototype.send`: on a client's first command, the
   * recorder adds its middleware to that client's own stack (first in the initialize step,
   * where the command's name and input are final), so no client is built differently.
   */
  private patchSdk(): void {
    const recorder = this;
    // Keyed by stack: a DynamoDB document client shares the stack of the client it wraps.
    const withMiddleware = new Set<SmithyClient<any, any, any, any>['middlewareStack']>();
    this.restore.push(() => {
      for (const stack of withMiddleware) stack.remove('rehearsalRecorder');
    });
    this.patch(
      SmithyClient.prototype,
      'send',
      (original) =>
        function (this: SmithyClient<any, any, any, any>, ...args: unknown[]) {
          if (!withMiddleware.has(this.middlewareStack)) {
            withMiddleware.add(this.middlewareStack);
            this.middlewareStack.add(recorder.sdkMiddleware(this), {
              step: 'initialize',
              priority: 'high',
              name: 'rehearsalRecorder',
            });
          }
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        } as never,
    );
  }

  private sdkMiddleware(client: SmithyClient<any, any, any, any>) {
    return (next: (args: any) => Promise<any>, context: { clientName?: string; commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        const clientName = context.clientName ?? 'UnknownClient';
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const region = String(await client.config.region());
        // The endpoint the client would call in AWS (a local engine's endpoint aside).
        const url = new URL(
          client.config.endpointProvider(
            {
              Region: region,
              UseFIPS: await client.config.useFipsEndpoint(),
              UseDualStack: await client.config.useDualstackEndpoint(),
            },
            {},
          ).url,
        );
        this.record({
          kind: 'sdk',
          client: clientName,
          operation,
          input: args.input,
          region,
          endpoint: `${url.hostname}:${url.port || 443}`,
        });
        const answer = this.standIns.sdk?.(clientName, operation, args.input, {
          region,
          customEndpoint: client.config.isCustomEndpoint === true,
        });
        if (answer === undefined) return next(args);
        return { output: { $metadata: {}, ...((await answer) as object) }, response: {} };
      };
  }

  private patchPostgres(): void {
    const recorder = this;
    const observe = (options: { host?: string; port?: number; user?: string; password?: unknown }) =>
      recorder.record({
        kind: 'postgres',
        host: String(options.host),
        port: Number(options.port ?? 5432),
        user: String(options.user),
        iam: typeof options.password === 'function' || /[?&]Action=connect&/.test(String(options.password)),
      });
    this.patch(
      Pool.prototype,
      'connect',
      (original) =>
        function (this: Pool & { options: object }, ...args: unknown[]) {
          observe(this.options);
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        } as never,
    );
    this.patch(
      PgClient.prototype,
      'connect',
      (original) =>
        // A pool's own clients connect in the caller's scope too: the same observation, once.
        function (this: PgClient, ...args: unknown[]) {
          observe({ host: this.host, port: this.port, user: this.user, password: this.password });
          const refusal = scopes.getStore() && recorder.standIns.postgres?.(this.host);
          if (refusal) {
            const callback = args.find((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined;
            if (!callback) return Promise.reject(refusal);
            queueMicrotask(() => callback(refusal));
            return undefined;
          }
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        } as never,
    );
  }

  private patchValkey(): void {
    const recorder = this;
    for (const type of [Valkey, Cluster] as const) {
      this.patch(
        type.prototype as { sendCommand: unknown },
        'sendCommand',
        (original) =>
          function (
            this: { options: { host?: string; port?: number }; startupNodes?: { host: string; port: number }[] },
            ...args: unknown[]
          ) {
            const node = this.startupNodes?.[0] ?? this.options;
            recorder.record({ kind: 'valkey', host: String(node.host), port: Number(node.port ?? 6379) });
            return (original as (...a: unknown[]) => unknown).apply(this, args);
          } as never,
      );
    }
  }

  private patchFetch(): void {
    this.patch(
      globalThis,
      'fetch',
      (original) =>
        ((input: string | URL | Request, init?: RequestInit) => {
          const url = new URL(input instanceof Request ? input.url : String(input));
          if (!scopes.getStore()) return original(input, init);
          const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
          this.record({ kind: 'http', host: url.hostname, port });
          const answer = this.standIns.fetch?.(url);
          return answer ? Promise.resolve(answer) : original(input, init);
        }) as typeof fetch,
    );
  }
}
