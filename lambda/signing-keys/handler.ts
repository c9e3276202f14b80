import { SSMClient } from '@aws-sdk/client-ssm';
import { requiredEnv } from '../shared/environment';
import { logger } from '../shared/observability';
import { type CopyKeysResult, copySigningKeys } from './copy-keys';

const ssm = new SSMClient({});
const userPoolId = requiredEnv(process.env, 'USER_POOL_ID');
const parameterName = requiredEnv(process.env, 'SIGNING_KEYS_PARAMETER');

/** Run by the deploy (a CDK Trigger) and every few hours (an EventBridge schedule); both send no input it uses. */
export async function handler(): Promise<CopyKeysResult> {
  const result = await copySigningKeys({ userPoolId, parameterName, ssm });
  logger.info('user pool signing keys copied to this region', { ...result, parameterName });
  return result;
}
