import { randomUUID } from 'node:crypto';
import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { createCanaryHandler } from '../../lambda/canary/handler';
import { createCanaryIdentityHandler } from '../../lambda/canary-identity/handler';
import { createMigrationHandler } from '../../lambda/migrations/handler';
import { ORIGIN_PROOF_HEADER } from '../../lambda/shared/api-contract';
import type { FunctionEnvironment } from '../../lambda/shared/environment';
import { createCopierHandler } from '../../lambda/signing-keys/handler';
import type { Topology } from '../../lib/config/topology';
import { authorizerEvent } from '../api-gateway-event';
import { DevTokenIssuer } from '../dev-tokens';
import { startLocalPlatform } from '../platform';
import type { LocalEndpoints } from './aws-requests';
import type { DeployedFunction, Deployment } from './deployment';
import { CallRecorder, type RecordedCall, runAs } from './recorder';
import { walkTheShop } from './shop-walk';
import { AwsStandIns } from './stand-ins';

export interface Recording {
  readonly calls: readonly RecordedCall[];
  /** What the local store endpoints stand for (see `LocalPlatform.storeEndpoints`). */
  readonly storeEndpoints: LocalEndpoints;
  /** Requests the shop walk sent through the edge. */
  readonly requests: number;
  /** Handlers that ended as the stand-ins make them end (no Aurora instance, no website here). */
  readonly expectedEndings: readonly string[];
  /** Handlers that ended in any other error: the rehearsal fails on these. */
  readonly failures: readonly string[];
}

/**
 * Runs the code of every function of `deployment` and records what it calls: the domain
 * functions on the local platform while a shopper walks every route in every region, the
 * others (authorizer, key copier, migrations) as their handlers, each with the environment
 * its template gives it, against stand-ins for the services with no local engine.
 */
export async function recordCalls(topology: Topology, deployment: Deployment): Promise<Recording> {
  const jwks = JSON.stringify(new DevTokenIssuer(topology.jurisdictions).jwks(topology.jurisdictions[0]?.name ?? ''));
  const services = new AwsStandIns(jwks, deployment);
  const recorder = new CallRecorder(services.standIns).install();
  const failures: string[] = [];
  const expectedEndings: string[] = [];
  const unrun = deployment.functions.filter(
    (fn) => !fn.scope.function.startsWith('api:') && !(fn.scope.function in HANDLERS),
  );
  if (unrun.length > 0)
    throw new Error(`the rehearsal runs no handler of ${unrun.map((fn) => fn.scope.function).join(', ')}`);
  try {
    const platform = await startLocalPlatform({
      topology,
      portBase: 0,
      replicationDelayMs: 100,
      distance: { scale: 0 },
      healthIntervalMs: 200,
      onReplicationError: () => undefined,
    });
    let requests: number;
    try {
      requests = await walkTheShop(platform, topology);
    } finally {
      await platform.stop();
    }
    for (const name of Object.keys(HANDLERS)) {
      for (const fn of deployment.functions.filter((candidate) => candidate.scope.function === name)) {
        const ending = await runHandler(fn, services);
        if (ending === undefined) continue;
        const line = `${fn.scope.function} in ${fn.scope.region}: ${ending}`;
        (STAND_IN_ENDINGS.some((expected) => ending.includes(expected)) ? expectedEndings : failures).push(line);
      }
    }
    return { calls: [...recorder.calls], storeEndpoints: platform.storeEndpoints, requests, expectedEndings, failures };
  } finally {
    recorder.uninstall();
  }
}

/** A token the authorizer refuses after its cold start has read the region's key copy. */
const UNSIGNED_TOKEN = ['eyJhbGciOiJSUzI1NiIsImtpZCI6InJlaGVhcnNhbCJ9', 'eyJzdWIiOiJyZWhlYXJzYWwifQ', 'c2ln'].join('.');

/** What a handler ends in when a stand-in refuses it on purpose (`stand-ins.ts`). */
const STAND_IN_ENDINGS = ['the rehearsal has no database at', 'the rehearsal does not reach'];

/**
 * How each function other than the API's is run, in deploy order: the triggers (migrations,
 * key copy, canary enrolment), then a request's authorizer, then the canaries.
 */
type RunnerMaker = (env: FunctionEnvironment, services: AwsStandIns) => () => Promise<unknown>;

const HANDLERS: Readonly<Record<string, RunnerMaker>> = {
  migrations: (env) => createMigrationHandler(env),
  // The deploy's copy, then the schedule's, which verifies the copy it finds.
  'signing-keys': (env) => {
    const handler = createCopierHandler(env);
    return async () => {
      await handler({});
      await handler({ source: 'aws.events' });
    };
  },
  // The deploy's enrolment, then a rotation's four steps as Secrets Manager sends them.
  'canary-identity': (env, services) => {
    const handler = createCanaryIdentityHandler(env, { ...services.timing, log: () => undefined });
    return async () => {
      await handler({});
      const secretId = String(env.CANARY_SECRET_ARN);
      const token = randomUUID();
      services.startRotation(secretId, token);
      for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'])
        await handler({ Step, SecretId: secretId, ClientRequestToken: token });
    };
  },
  authorizer: (env, services) => {
    const handler = createAuthorizerHandler(env);
    // CloudFront's proof of origin: the value of this region's replica of the secret.
    const proof = services.secretString(String(env.ORIGIN_SECRET_NAME), String(env.AWS_REGION));
    const route = { method: 'GET', path: '/api/me/cart', domain: 'cart' } as const;
    const request = {
      method: 'GET',
      rawPath: route.path,
      rawQueryString: '',
      headers: { authorization: `Bearer ${UNSIGNED_TOKEN}`, [ORIGIN_PROOF_HEADER]: proof },
    };
    const event = authorizerEvent(request, { route, routeKey: 'GET /api/me/cart', pathParameters: {} }, [
      request.headers.authorization,
      request.headers[ORIGIN_PROOF_HEADER],
    ]);
    return () => handler(event);
  },
  // Each canary run signs the canary user in at the next TOTP step (Cognito refuses a code twice).
  'canary:global': (env, services) => canaryRun(env, services),
  'canary:regional': (env, services) => canaryRun(env, services),
};

function canaryRun(env: FunctionEnvironment, services: AwsStandIns): () => Promise<unknown> {
  const handler = createCanaryHandler(env, { now: services.timing.now, log: () => undefined });
  return async () => {
    await services.timing.sleep(30_000);
    return handler();
  };
}

/** Runs `fn`'s handler once as `fn`; the error it ended in, if any. */
async function runHandler(fn: DeployedFunction, services: AwsStandIns): Promise<string | undefined> {
  const make = HANDLERS[fn.scope.function];
  if (!make) return undefined;
  const env = { ...fn.environment, AWS_REGION: fn.scope.region } as FunctionEnvironment;
  try {
    await runAs(fn.scope, async () => make(env, services)());
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
