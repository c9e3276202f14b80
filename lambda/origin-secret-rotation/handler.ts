import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudFrontClient,
  type DistributionConfig,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ORIGIN_PROOF_HEADER } from '../shared/api-contract';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { type OriginHeaders, type RotationEvent, type RotationTiming, rotate, type SecretVersions } from './rotation';

/** `OriginProofVerifier`'s default `refreshOnMismatchMs` (10 s), with a margin. */
const TIMING: RotationTiming = { settleMs: 15_000, deployPollMs: 20_000, deployPolls: 40, sleep: (ms) => sleep(ms) };

/** Secrets Manager's side of the rotation, over the SDK. */
export function secretsManagerVersions(client: SecretsManagerClient): SecretVersions {
  return {
    // From the primary's own description, so the function needs no access in the replicas'
    // regions (the EU's among them): a replica is in sync once it holds every version.
    async replicasWithout(secretId) {
      const answer = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      return (answer.ReplicationStatus ?? []).filter((r) => r.Status !== 'InSync').map((r) => String(r.Region));
    },
    async value(secretId, stage, versionId) {
      try {
        const answer = await client.send(
          new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage, VersionId: versionId }),
        );
        return answer.SecretString;
      } catch (error) {
        if ((error as Error).name === ResourceNotFoundException.name) return undefined;
        throw error;
      }
    },
    async describe(secretId) {
      const answer = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      return { rotationEnabled: answer.RotationEnabled === true, versions: answer.VersionIdsToStages ?? {} };
    },
    async newValue() {
      const answer = await client.send(new GetRandomPasswordCommand({ PasswordLength: 48, ExcludePunctuation: true }));
      if (!answer.RandomPassword) throw new Error('Secrets Manager returned no random value');
      return answer.RandomPassword;
    },
    async putPending(secretId, versionId, value) {
      await client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );
    },
    async makeCurrent(secretId, versionId, previousCurrent) {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: versionId,
          RemoveFromVersionId: previousCurrent,
        }),
      );
    },
  };
}

/** The proof header of every origin of one distribution that carries it. */
export function distributionOriginHeaders(client: CloudFrontClient, distributionId: string): OriginHeaders {
  const proofHeadersOf = (config: DistributionConfig | undefined) =>
    (config?.Origins?.Items ?? []).flatMap((origin) =>
      (origin.CustomHeaders?.Items ?? []).filter((h) => h.HeaderName?.toLowerCase() === ORIGIN_PROOF_HEADER),
    );
  const read = () => client.send(new GetDistributionConfigCommand({ Id: distributionId }));
  return {
    async values() {
      return proofHeadersOf((await read()).DistributionConfig).map((h) => h.HeaderValue ?? '');
    },
    async deployed() {
      const answer = await client.send(new GetDistributionCommand({ Id: distributionId }));
      return answer.Distribution?.Status === 'Deployed';
    },
    async set(value) {
      const { DistributionConfig: config, ETag } = await read();
      const headers = proofHeadersOf(config);
      if (!config || headers.length === 0)
        throw new Error(`no origin of ${distributionId} carries ${ORIGIN_PROOF_HEADER}`);
      for (const header of headers) header.HeaderValue = value;
      // IfMatch: a concurrent change to the distribution fails this step, which Secrets Manager retries.
      await client.send(
        new UpdateDistributionCommand({ Id: distributionId, IfMatch: ETag, DistributionConfig: config }),
      );
    },
  };
}

type RotationHandler = (event: RotationEvent) => Promise<void>;

export function createRotationHandler(env: FunctionEnvironment): RotationHandler {
  const secrets = secretsManagerVersions(new SecretsManagerClient({ region: requiredEnv(env, 'AWS_REGION') }));
  // CloudFront's API is global, served from us-east-1.
  const origin = distributionOriginHeaders(
    new CloudFrontClient({ region: 'us-east-1' }),
    requiredEnv(env, 'DISTRIBUTION_ID'),
  );
  return async (event) => {
    logger.info('rotating the origin secret', { step: event.Step, version: event.ClientRequestToken });
    await rotate(event, secrets, origin, TIMING);
  };
}

let rotationHandler: RotationHandler | undefined;

export const handler: RotationHandler = (event) => {
  rotationHandler ??= createRotationHandler(process.env);
  return rotationHandler(event);
};
