import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ApiCanary, type ApiCanaryProps } from '../../lib/operations/api-canary';
import { CDK_JSON_CONTEXT } from './cdk-context';

// The canary wired as the platform would: the region's data key in a stateful stack, the
// canary in the stateless stack that depends on it, the user pool in another region.
export const CANARY_ACCOUNT = '123456789012';
export const CANARY_REGION = 'eu-central-1';
export const CANARY_USER_POOL_ARN = `arn:aws:cognito-idp:eu-west-1:${CANARY_ACCOUNT}:userpool/eu-west-1_AbCdEfGhI`;
/** The region's canary secret (a CanaryIdentity's in the platform), imported here by its ARN. */
export const CANARY_SECRET_ARN = `arn:aws:secretsmanager:${CANARY_REGION}:${CANARY_ACCOUNT}:secret:CanaryIdentityCredentials-AbCdEf`;
export const CANARY_TARGETS = [
  { label: 'global', baseUrl: 'https://api.shop.example.com' },
  { label: 'regional', baseUrl: `https://abc123.execute-api.${CANARY_REGION}.amazonaws.com` },
];

/** The two stacks, with the feature flags of cdk.json (weak cross-stack references among them). */
export function buildCanaryStacks(overrides: Partial<ApiCanaryProps> = {}, context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
  const env = { account: CANARY_ACCOUNT, region: CANARY_REGION };
  const stateful = new Stack(app, 'Stateful', { env });
  const dataKey = new kms.Key(stateful, 'DataKey', { enableKeyRotation: true });
  // As the platform's data keys: grants only for AWS services acting for a resource (CT.KMS.PR.3).
  dataKey.addToResourcePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  const stateless = new Stack(app, 'Stateless', { env });
  stateless.addStackDependency(stateful);
  const canary = new ApiCanary(stateless, 'ApiCanary', {
    targets: CANARY_TARGETS,
    sku: 'CANARY-1',
    userPoolArn: CANARY_USER_POOL_ARN,
    userPoolClientId: 'webclient123',
    encryptionKey: dataKey,
    credentials: secretsmanager.Secret.fromSecretCompleteArn(stateless, 'CanaryCredentials', CANARY_SECRET_ARN),
    ...overrides,
  });
  return { app, stateful, stateless, canary, dataKey };
}
