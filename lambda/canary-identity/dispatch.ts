import { z } from 'zod';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { type EnrolmentResult, enrol } from './enrolment';
import type { CanaryIdentityConfig, CanaryIdentityDependencies } from './identity';
import { ROTATION_STEPS, type RotationStep, rotate } from './rotation';

/*
 * The function has two callers, told apart by the event's shape:
 * - the deploy's trigger (aws-cdk-lib/triggers), which invokes it with no payload, so the
 *   event is `{}` (or nothing): enrol;
 * - Secrets Manager's rotation, `{ Step, SecretId, ClientRequestToken, RotationToken? }`.
 * Anything else is refused, naming only the fields it saw, never their values.
 */

const TriggerEvent = z.union([z.undefined(), z.null(), z.strictObject({})]);

/** The user guide spells the steps `create_secret` etc. too; the service sends `createSecret`. */
const SNAKE_STEPS: Record<string, RotationStep> = {
  create_secret: 'createSecret',
  set_secret: 'setSecret',
  test_secret: 'testSecret',
  finish_secret: 'finishSecret',
};

const RotationEvent = z.object({
  Step: z.union([z.enum(ROTATION_STEPS), z.enum(Object.keys(SNAKE_STEPS) as [string, ...string[]])]),
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  RotationToken: z.string().optional(),
});

export type CanaryIdentityResult =
  | ({ readonly kind: 'enrolment' } & EnrolmentResult)
  | { readonly kind: 'rotation'; readonly step: RotationStep };

export async function handleEvent(deps: CanaryIdentityDependencies, event: unknown): Promise<CanaryIdentityResult> {
  const rotation = RotationEvent.safeParse(event);
  if (rotation.success) {
    const { Step, SecretId, ClientRequestToken } = rotation.data;
    const step = SNAKE_STEPS[Step] ?? (Step as RotationStep);
    deps.log?.('rotation step', { step });
    await rotate(deps, { step, secretId: SecretId, token: ClientRequestToken });
    return { kind: 'rotation', step };
  }
  if (TriggerEvent.safeParse(event).success) {
    deps.log?.('enrolment (deploy trigger)');
    return { kind: 'enrolment', ...(await enrol(deps)) };
  }
  const fields = typeof event === 'object' && event !== null ? Object.keys(event).join(', ') : typeof event;
  throw new Error(`canary identity: not a trigger or rotation event (fields: ${fields || 'none'})`);
}

/** The function's configuration from its environment (lib/identity/canary-identity.ts sets it). */
export function configFromEnvironment(env: FunctionEnvironment): CanaryIdentityConfig {
  return {
    userPoolId: requiredEnv(env, 'USER_POOL_ID'),
    userPoolRegion: requiredEnv(env, 'USER_POOL_REGION'),
    clientId: requiredEnv(env, 'USER_POOL_CLIENT_ID'),
    username: requiredEnv(env, 'CANARY_USERNAME'),
    secretArn: requiredEnv(env, 'CANARY_SECRET_ARN'),
    product: {
      tableName: requiredEnv(env, 'EVENTUAL_TABLE'),
      sku: requiredEnv(env, 'CANARY_SKU'),
      currency: requiredEnv(env, 'CANARY_CURRENCY'),
    },
  };
}
