import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CanaryCredentials } from '../canary/cognito-token-source';
import { type CanaryIdentityDependencies, credentialsJson, errorName, readCredentials, signIn } from './identity';
import { generatePassword } from './password';

/*
 * Secrets Manager's rotation protocol ("Rotation by Lambda function" in its user guide):
 * the service calls the function four times with the same ClientRequestToken, the id of
 * the new version. createSecret stores a new password as that version, labelled
 * AWSPENDING (the username and the TOTP secret are kept: the authenticator stays); setSecret
 * sets it on the user; testSecret signs in with it; finishSecret moves AWSCURRENT to it.
 * Every step may be retried, so each one is idempotent.
 *
 * Between setSecret and finishSecret the canaries still read the old password and a run
 * may fail once; the next run reads the new one. A deploy in between makes the pending
 * version current itself when only it signs in, after which every step finds it AWSCURRENT
 * and does nothing; a deploy that enrols anew takes AWSPENDING to its own version, after
 * which this rotation's steps find their version without a stage and fail (enrolment.ts).
 */

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface RotationRequest {
  readonly step: RotationStep;
  readonly secretId: string;
  readonly token: string;
}

export async function rotate(deps: CanaryIdentityDependencies, request: RotationRequest): Promise<void> {
  const { secretId, token, step } = request;
  if (secretId !== deps.config.secretArn) {
    throw new Error(`rotation of ${secretId} refused: this function rotates ${deps.config.secretArn} only`);
  }
  const metadata = await deps.clients.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!metadata.RotationEnabled) throw new Error(`secret ${secretId} is not enabled for rotation`);
  const stages = metadata.VersionIdsToStages?.[token];
  if (!stages) throw new Error(`secret version ${token} has no stage for rotation of ${secretId}`);
  if (stages.includes('AWSCURRENT')) {
    deps.log?.('secret version is already AWSCURRENT', { step });
    return;
  }
  if (!stages.includes('AWSPENDING')) throw new Error(`secret version ${token} is not AWSPENDING for ${secretId}`);

  switch (step) {
    case 'createSecret':
      return createSecret(deps, token);
    case 'setSecret':
      return setSecret(deps, await pending(deps, token));
    case 'testSecret':
      await signIn(deps, await pending(deps, token));
      deps.log?.('the pending password signs in', { step });
      return;
    case 'finishSecret':
      return finishSecret(deps, token, metadata.VersionIdsToStages ?? {});
  }
}

async function createSecret(deps: CanaryIdentityDependencies, token: string): Promise<void> {
  const current = await readCredentials(deps, { VersionStage: 'AWSCURRENT' });
  if (!current) {
    // Rotation changes a password; enrolling is the deploy's (the trigger's) job.
    throw new Error('the canary user is not enrolled yet (the secret holds no credentials); deploy to enrol it');
  }
  try {
    await deps.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: deps.config.secretArn, VersionId: token, VersionStage: 'AWSPENDING' }),
    );
    deps.log?.('pending version exists already', { step: 'createSecret' });
    return;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
  await deps.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: deps.config.secretArn,
      ClientRequestToken: token,
      SecretString: credentialsJson({ ...current, password: generatePassword() }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  deps.log?.('pending version created with a new password', { step: 'createSecret' });
}

async function setSecret(deps: CanaryIdentityDependencies, credentials: CanaryCredentials): Promise<void> {
  await deps.clients.cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: deps.config.userPoolId,
      Username: credentials.username,
      Password: credentials.password,
      Permanent: true,
    }),
  );
  deps.log?.('pending password set on the user', { step: 'setSecret', username: credentials.username });
}

async function finishSecret(
  deps: CanaryIdentityDependencies,
  token: string,
  versions: Record<string, readonly string[]>,
): Promise<void> {
  const current = Object.entries(versions).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  await deps.clients.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: deps.config.secretArn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      ...(current ? { RemoveFromVersionId: current } : {}),
    }),
  );
  deps.log?.('pending version is now AWSCURRENT', { step: 'finishSecret' });
}

async function pending(deps: CanaryIdentityDependencies, token: string): Promise<CanaryCredentials> {
  const credentials = await readCredentials(deps, { VersionId: token, VersionStage: 'AWSPENDING' });
  if (!credentials) throw new Error(`pending version ${token} holds no complete credentials`);
  return credentials;
}
