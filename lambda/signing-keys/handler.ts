import { KMSClient } from '@aws-sdk/client-kms';
import { SSMClient } from '@aws-sdk/client-ssm';
import { requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { type CopyKeysResult, copySigningKeys } from './copy-keys';

const ssm = new SSMClient({});
const kms = new KMSClient({});
const copyKeyId = requiredEnv(process.env, 'SIGNING_KEYS_COPY_KEY');
const userPoolId = requiredEnv(process.env, 'USER_POOL_ID');
const parameterName = requiredEnv(process.env, 'SIGNING_KEYS_PARAMETER');

/**
 * Run by the deploy (a CDK Trigger, which sends `{}`) and every few hours (an EventBridge
 * scheduled event). A deploy keeps an existing copy when the pool's region cannot be reached.
 */
export async function handler(event?: { readonly source?: string }): Promise<CopyKeysResult> {
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
}
