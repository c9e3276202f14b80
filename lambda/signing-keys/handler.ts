import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { type CopyKeysResult, copySigningKeys } from './copy-keys';

type CopierHandler = (event?: { readonly source?: string }) => Promise<CopyKeysResult>;

/**
 * Run by the deploy (a CDK Trigger, which sends `{}`) and every few hours (an EventBridge
 * scheduled event). A deploy keeps an existing copy when the pool's region cannot be reached.
 */
export function createCopierHandler(env: FunctionEnvironment): CopierHandler {
  const region = requiredEnv(env, 'AWS_REGION');
  const ssm = new SSMClient({ region });
  const kms = new KMSClient({ region });
  const copyKeyId = requiredEnv(env, 'SIGNING_KEYS_COPY_KEY');
  const userPoolId = requiredEnv(env, 'USER_POOL_ID');
  const parameterName = requiredEnv(env, 'SIGNING_KEYS_PARAMETER');
  return async (event) => {
    const scheduled = event?.source === 'aws.events';
    const result = await copySigningKeys({
      userPoolId,
      parameterName,
      copyKeyId,
      ssm,
      kms,
      keepCopyOnFailure: !scheduled,
    });
    if (result.outcome === 'kept')
      logger.warn("the pool's keys could not be fetched; the region keeps its copy", { ...result });
    logger.info('user pool signing keys copied to this region', { ...result, parameterName });
    return result;
  };
}

let copier: CopierHandler | undefined;

export const handler: CopierHandler = (event) => {
  copier ??= createCopierHandler(process.env);
  return copier(event);
};
