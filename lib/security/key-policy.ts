import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/*
 * Key-policy statements every customer-managed key of the platform carries (Control
 * Tower's CT.KMS.PR.3, and CloudWatch Logs encryption of the region's log groups).
 */

/**
 * Only AWS services may create grants on the key, and only for their own resources (Aurora,
 * DynamoDB, ElastiCache and Secrets Manager do so when they use it): nobody in the account
 * can hand the key to a principal outside the key policy and IAM.
 */
export function restrictGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsNotForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/**
 * CloudWatch Logs of this region may encrypt and decrypt with the key, only for log groups
 * of this account and region (the encryption context CloudWatch Logs always sends). The
 * pattern names no log group, so log groups of the stateless stack can use the key
 * without this stack referring back to that one.
 */
export function allowRegionalLogs(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisRegion',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
}
