import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RecordingCardProcessor } from '../lambda/payments/card-processor';
import type { StrongStore } from '../lambda/stores/strong-store';
import type { DeploymentModel, Topology } from '../lib/config/topology';
import type { DevTokenIssuer } from './dev-tokens';
import type { Edge } from './edge';
import type { PostgresEngine } from './engines';
import { readBody, send } from './http-io';
import type { IssuerServer } from './issuer-server';
import type { RegionalGateway } from './regional-gateway';
import type { Replicator } from './replicator';

/** What the controls act on: the running platform's parts, as `startLocalPlatform` wires them. */
export interface ControlDeps {
  readonly topology: Topology;
  readonly tokens: DevTokenIssuer;
  readonly gateways: ReadonlyMap<string, RegionalGateway>;
  /** Each jurisdiction's user pool endpoint (in its primary region). */
  readonly issuers: ReadonlyMap<string, IssuerServer>;
  readonly postgres: ReadonlyMap<string, PostgresEngine>;
  readonly replicators: ReadonlyMap<string, Replicator>;
  /** Each jurisdiction's card processor, which records every capture. */
  readonly processors: ReadonlyMap<string, RecordingCardProcessor>;
  /** Each jurisdiction's strong store as its primary region reaches it. */
  readonly primaryStores: ReadonlyMap<string, StrongStore>;
  /** Each serving region's own strong store: the writer in a primary, its replica in a secondary. */
  readonly regionStores: ReadonlyMap<string, RegionStrongStore>;
  readonly clocks: Map<string, Date>;
  readonly edge: Edge;
}

/** A region's connection to its strong store, and how far behind the writer that store is set to be. */
export interface RegionStrongStore {
  readonly store: StrongStore;
  /** The replica's injected apply delay; 0 for the writer. */
  readonly replicaLagMs: number;
}

/** The platform's state: the answer to `GET /` and to every control that changes it. */
export interface ControlStatus {
  readonly deploymentModel: DeploymentModel;
  readonly regions: Readonly<
    Record<
      string,
      {
        readonly url: string;
        readonly down: boolean;
        readonly healthyAtEdge: boolean;
        /** Whether the region's writer health check passes (`writer.<jurisdiction>.api` resolves to it). */
        readonly writerHealthyAtEdge: boolean;
        /** How far the region's strong store is set to lag the writer: 0 in the primary. */
        readonly replicaLagMs: number;
        readonly clock: Date | 'real';
      }
    >
  >;
  readonly replication: Readonly<
    Record<string, { readonly paused: boolean; readonly backlog: number; readonly delayMs: number }>
  >;
  /** Each jurisdiction's token issuer: its Cognito-form issuer, where its JWKS is, and whether it is up. */
  readonly issuers: Readonly<
    Record<string, { readonly issuer: string; readonly region: string; readonly jwksUrl: string; readonly up: boolean }>
  >;
}

/** The body of every refused control request; `field` names what was wrong. */
export interface ControlProblem {
  readonly error: {
    /** `USER_POOL_DOWN`: sign-in needs the jurisdiction's primary region, which is down. */
    readonly code: 'BAD_CONTROL_REQUEST' | 'USER_POOL_DOWN';
    readonly message: string;
    readonly field: string;
  };
}

/** A control's answer: the HTTP status and the JSON body. */
type ControlAnswer = [number, unknown];
/** A route: method, path pattern, and the handler given the path's match and the parsed body. */
type ControlRoute = [string, RegExp, (match: RegExpExecArray, body: any) => Promise<ControlAnswer>];

/**
 * Dev-only controls (never part of the CDK app): tokens, regions down and up, a
 * jurisdiction's strong store stopped and started, replication paused and resumed, a
 * region's clock pinned (to replay the design's worked examples to the second), what
 * each jurisdiction's card processor captured (to count double charges) and a SKU's stock
 * as the strong store has it (no cache in between).
 */
export function controlServer(deps: ControlDeps): Server {
  const routes = controlRoutes(deps);
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    // Only local tools: a web page in the developer's browser (another Origin, or a
    // rebound DNS name in Host) must not mint tokens or take regions down.
    const host = request.headers.host ?? '';
    if (request.headers.origin || !/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host)) {
      return send(response, 403, problem('host', 'the controls answer local tools on 127.0.0.1 only'));
    }
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const route = routeOf(routes, request.method, path);
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
        const [code, answer] = await route.handle(route.match, body);
        send(response, code, answer);
      })
      .catch((error: unknown) => send(response, 500, problem('control', (error as Error).message)));
  });
}

/** The route for a request, with the match of its path pattern. */
function routeOf(routes: readonly ControlRoute[], method: string | undefined, path: string) {
  for (const [routeMethod, pattern, handle] of routes) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (match) return { handle, match };
  }
  return undefined;
}

/** Capture group `index` of a route's path pattern, which every match of that pattern has. */
function captured(match: RegExpExecArray, index: number): string {
  const value = match[index];
  if (value === undefined) throw new Error(`the control path ${match[0]} has no capture group ${index}`);
  return value;
}

function controlRoutes(deps: ControlDeps): ControlRoute[] {
  return [
    ['GET', /^\/$/, async () => [200, controlStatus(deps)]],
    ['POST', /^\/tokens$/, async (_match, body) => issueToken(deps, body)],
    ['POST', /^\/regions\/([a-z0-9-]+)\/(down|up)$/, async (match) => setRegionDown(deps, match)],
    ['POST', /^\/regions\/([a-z0-9-]+)\/clock$/, async (match, body) => pinClock(deps, match, body)],
    ['DELETE', /^\/regions\/([a-z0-9-]+)\/clock$/, async (match) => unpinClock(deps, match)],
    [
      'POST',
      /^\/jurisdictions\/([a-z0-9-]+)\/strong-store\/(stop|start)$/,
      async (match) => switchStrongStore(deps, match),
    ],
    ['GET', /^\/payments$/, async () => [200, capturesByJurisdiction(deps)]],
    [
      'GET',
      /^\/jurisdictions\/([a-z0-9-]+)\/inventory\/([A-Za-z0-9_.-]+)$/,
      async (match) => readInventory(deps, match),
    ],
    [
      'GET',
      /^\/regions\/([a-z0-9-]+)\/inventory\/([A-Za-z0-9_.-]+)$/,
      async (match) => readRegionInventory(deps, match),
    ],
    ['POST', /^\/replication\/(pause|resume)$/, async (match) => pauseReplication(deps, match)],
  ];
}

/**
 * `POST /tokens` `{jurisdiction, sub, admin?}`: a dev token for that user, signed in at the
 * jurisdiction's pool; 503 while the pool's region (the primary) is down.
 */
function issueToken(deps: ControlDeps, body: any): ControlAnswer {
  const jurisdiction = deps.topology.jurisdictions.find((j) => j.name === body?.jurisdiction);
  if (!jurisdiction || typeof body?.sub !== 'string' || body.sub === '') {
    return [
      400,
      problem('body', `send {"jurisdiction": one of ${jurisdictionNames(deps)}, "sub": "<user id>", "admin"?: true}`),
    ];
  }
  if (deps.gateways.get(jurisdiction.primaryRegion)?.down) {
    const message = `the ${jurisdiction.name} user pool's region ${jurisdiction.primaryRegion} is down: no sign-in until it is back`;
    return [503, { error: { code: 'USER_POOL_DOWN', message, field: 'jurisdiction' } }];
  }
  return [200, { token: deps.tokens.issue(jurisdiction.name, { sub: body.sub, admin: body.admin === true }) }];
}

/** `POST /regions/:region/down` or `/up`. */
function setRegionDown(deps: ControlDeps, match: RegExpExecArray): ControlAnswer {
  const region = captured(match, 1);
  const gateway = deps.gateways.get(region);
  if (!gateway) return [404, problem('region', `no serving region ${region}`)];
  gateway.down = captured(match, 2) === 'down';
  return [200, controlStatus(deps)];
}

/** `POST /regions/:region/clock` `{at}`: the region's functions see that time from now on. */
function pinClock(deps: ControlDeps, match: RegExpExecArray, body: any): ControlAnswer {
  const region = captured(match, 1);
  if (!deps.gateways.has(region)) return [404, problem('region', `no serving region ${region}`)];
  const at = new Date(body?.at);
  if (typeof body?.at !== 'string' || Number.isNaN(at.getTime())) {
    return [400, problem('at', 'send {"at": "<ISO 8601 time>"}')];
  }
  deps.clocks.set(region, at);
  return [200, { region, clock: at.toISOString() }];
}

/** `DELETE /regions/:region/clock`: back to the real time. */
function unpinClock(deps: ControlDeps, match: RegExpExecArray): ControlAnswer {
  const region = captured(match, 1);
  deps.clocks.delete(region);
  return [200, { region, clock: 'real' }];
}

/** `POST /jurisdictions/:jurisdiction/strong-store/stop` or `/start`. */
async function switchStrongStore(deps: ControlDeps, match: RegExpExecArray): Promise<ControlAnswer> {
  const [jurisdiction, stop] = [captured(match, 1), captured(match, 2) === 'stop'];
  const engine = deps.postgres.get(jurisdiction);
  if (!engine)
    return [404, problem('jurisdiction', `no jurisdiction ${jurisdiction}; have ${jurisdictionNames(deps)}`)];
  await (stop ? engine.stop() : engine.start());
  return [200, { jurisdiction, strongStore: stop ? 'stopped' : 'running' }];
}

/** `GET /payments`: every capture of each jurisdiction's card processor. */
function capturesByJurisdiction(deps: ControlDeps) {
  return Object.fromEntries(
    [...deps.processors.entries()].map(([j, processor]) => [j, { captures: processor.captures }]),
  );
}

/** `GET /jurisdictions/:jurisdiction/inventory/:sku`: the stock as the primary's strong store has it. */
async function readInventory(deps: ControlDeps, match: RegExpExecArray): Promise<ControlAnswer> {
  const [jurisdiction, sku] = [captured(match, 1), captured(match, 2)];
  const store = deps.primaryStores.get(jurisdiction);
  if (!store) return [404, problem('jurisdiction', `no jurisdiction ${jurisdiction}; have ${jurisdictionNames(deps)}`)];
  const row = await store.getInventory(sku);
  if (!row) return [404, problem('sku', `no inventory for ${sku} in ${jurisdiction}`)];
  return [200, { jurisdiction, ...row }];
}

/**
 * `GET /regions/:region/inventory/:sku`: the stock as the region's own strong store has it, the
 * replica in a secondary; what its product pages show once their cached copy expires.
 */
async function readRegionInventory(deps: ControlDeps, match: RegExpExecArray): Promise<ControlAnswer> {
  const [region, sku] = [captured(match, 1), captured(match, 2)];
  const regional = deps.regionStores.get(region);
  if (!regional) return [404, problem('region', `no serving region ${region}`)];
  const row = await regional.store.getInventory(sku);
  if (!row) return [404, problem('sku', `no inventory for ${sku} in ${region}`)];
  return [200, { region, ...row }];
}

/** `POST /replication/pause` or `/resume`: every jurisdiction's replicator at once. */
function pauseReplication(deps: ControlDeps, match: RegExpExecArray): ControlAnswer {
  for (const replicator of deps.replicators.values()) {
    if (captured(match, 1) === 'pause') replicator.pause();
    else replicator.resume();
  }
  return [200, controlStatus(deps)];
}

function controlStatus(deps: ControlDeps): ControlStatus {
  return {
    deploymentModel: deps.topology.deploymentModel,
    regions: Object.fromEntries(
      [...deps.gateways.entries()].map(([region, gateway]) => [
        region,
        {
          url: gateway.url,
          down: gateway.down,
          healthyAtEdge: deps.edge.isHealthy(region),
          writerHealthyAtEdge: deps.edge.isWriterHealthy(region),
          replicaLagMs: deps.regionStores.get(region)?.replicaLagMs ?? 0,
          clock: deps.clocks.get(region) ?? 'real',
        },
      ]),
    ),
    replication: Object.fromEntries(
      [...deps.replicators.entries()].map(([j, replicator]) => [
        j,
        { paused: replicator.isPaused, backlog: replicator.backlog, delayMs: replicator.delayMs },
      ]),
    ),
    issuers: Object.fromEntries(
      [...deps.issuers.entries()].map(([j, issuer]) => [
        j,
        {
          issuer: issuer.pool.issuer,
          region: issuer.pool.primaryRegion,
          jwksUrl: issuer.jwksUrl,
          up: deps.gateways.get(issuer.pool.primaryRegion)?.down !== true,
        },
      ]),
    ),
  };
}

function problem(field: string, message: string): ControlProblem {
  return { error: { code: 'BAD_CONTROL_REQUEST', message, field } };
}

function jurisdictionNames(deps: ControlDeps): string {
  return deps.topology.jurisdictions.map((j) => j.name).join(', ');
}
