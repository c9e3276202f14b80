/**
 * Rotation of the origin secret, in Secrets Manager's four steps
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html):
 * a new value is made pending; once every region's replica holds it, and the regional
 * authorizers can no longer be holding a read from before it existed, CloudFront is told to
 * send it; once the distribution is deployed everywhere, the value becomes current. The
 * regional APIs accept the current, pending and previous values throughout, so no request is
 * refused while CloudFront's change spreads.
 */

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/** The secret's side, as Secrets Manager offers it. */
export interface SecretVersions {
  /** The value of version `versionId` with the label `stage`; undefined when there is none. */
  value(secretId: string, stage: string, versionId?: string): Promise<string | undefined>;
  /** The version ids with their staging labels, and whether rotation is enabled. */
  describe(
    secretId: string,
  ): Promise<{ readonly rotationEnabled: boolean; readonly versions: Record<string, string[]> }>;
  newValue(): Promise<string>;
  putPending(secretId: string, versionId: string, value: string): Promise<void>;
  makeCurrent(secretId: string, versionId: string, previousCurrent: string | undefined): Promise<void>;
  /** The replica regions whose copy is not yet in sync with the secret (so may lack version `versionId`). */
  replicasWithout(secretId: string, versionId: string): Promise<readonly string[]>;
}

/** The distribution's origins that carry the proof, as CloudFront's configuration has them. */
export interface OriginHeaders {
  /** Every value the header has across the distribution's origins that carry it. */
  values(): Promise<readonly string[]>;
  /** Sets the header on every origin that carries it to `value`. */
  set(value: string): Promise<void>;
  /** Whether the distribution's last change is deployed to every edge location. */
  deployed(): Promise<boolean>;
}

export interface RotationTiming {
  /**
   * How long an authorizer may hold a read of the secret before a proof it does not know makes
   * it read again (`OriginProofVerifier`'s `refreshOnMismatchMs`), with a margin: waited out
   * between the pending value reaching every replica and CloudFront sending it.
   */
  readonly settleMs: number;
  /** How often, and how many times, the test step asks whether the distribution is deployed. */
  readonly deployPollMs: number;
  readonly deployPolls: number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** A rotation that cannot go on, named for the rotation's log and Secrets Manager's status. */
export class RotationRefused extends Error {}

export async function rotate(
  event: RotationEvent,
  secrets: SecretVersions,
  origin: OriginHeaders,
  timing: RotationTiming,
): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;
  const { rotationEnabled, versions } = await secrets.describe(secretId);
  if (!rotationEnabled) throw new RotationRefused(`rotation is not enabled on ${secretId}`);
  const stages = versions[token];
  if (!stages) throw new RotationRefused(`version ${token} of ${secretId} is not a version of it`);
  if (stages.includes('AWSCURRENT')) return; // this rotation is already done
  if (!stages.includes('AWSPENDING')) throw new RotationRefused(`version ${token} is not pending`);
  switch (step) {
    case 'createSecret':
      return createPending(secrets, secretId, token);
    case 'setSecret':
      return setOnOrigins(secrets, origin, timing, secretId, token);
    case 'testSecret':
      return testOrigins(origin, timing, await pendingValue(secrets, secretId, token));
    case 'finishSecret': {
      await originsSend(origin, await pendingValue(secrets, secretId, token));
      const current = Object.entries(versions).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
      return secrets.makeCurrent(secretId, token, current);
    }
    default:
      throw new RotationRefused(`unknown rotation step ${String(step)}`);
  }
}

/** Idempotent: a retried step finds the pending value it made. */
async function createPending(secrets: SecretVersions, secretId: string, token: string): Promise<void> {
  if (await secrets.value(secretId, 'AWSPENDING', token)) return;
  await secrets.putPending(secretId, token, await secrets.newValue());
}

async function setOnOrigins(
  secrets: SecretVersions,
  origin: OriginHeaders,
  timing: RotationTiming,
  secretId: string,
  token: string,
): Promise<void> {
  const pending = await pendingValue(secrets, secretId, token);
  if ((await origin.values()).every((value) => value === pending)) return; // a retried step
  const missing = await secrets.replicasWithout(secretId, token);
  if (missing.length > 0) {
    throw new RotationRefused(`the pending value has not reached the replicas in ${missing.join(', ')} yet`);
  }
  await timing.sleep(timing.settleMs);
  await origin.set(pending);
}

async function pendingValue(secrets: SecretVersions, secretId: string, token: string): Promise<string> {
  const value = await secrets.value(secretId, 'AWSPENDING', token);
  if (!value) throw new RotationRefused(`version ${token} of ${secretId} has no pending value`);
  return value;
}

async function originsSend(origin: OriginHeaders, pending: string): Promise<void> {
  const values = await origin.values();
  if (values.length === 0) throw new RotationRefused('no origin of the distribution carries the proof header');
  if (values.some((value) => value !== pending)) {
    throw new RotationRefused('an origin of the distribution still sends another value than the pending one');
  }
}

/** The configuration sends the pending value, and every edge location has it. */
async function testOrigins(origin: OriginHeaders, timing: RotationTiming, pending: string): Promise<void> {
  await originsSend(origin, pending);
  for (let poll = 0; poll < timing.deployPolls; poll++) {
    if (await origin.deployed()) return;
    await timing.sleep(timing.deployPollMs);
  }
  throw new RotationRefused('the distribution is not deployed yet: some edge locations may send the old value');
}
