import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { allowRegionalLogs, restrictGrantsToAwsServices } from '../../../lib/security/key-policy';
import { DENY_GRANTS_NOT_FOR_AWS_RESOURCES } from '../../support/key-policy';
import { oneStack } from '../../support/one-stack';
import { onlyOfType } from '../../support/templates';

function statementsOf(template: Template): Record<string, unknown>[] {
  const [, key] = onlyOfType(template, 'AWS::KMS::Key');
  return key.Properties.KeyPolicy.Statement;
}

describe('key policy statements', () => {
  test('only AWS services may create grants on the key, and only for their own resources', () => {
    // given
    const { stack } = oneStack({ region: 'eu-central-1' });
    const key = new kms.Key(stack, 'Key');
    // when
    restrictGrantsToAwsServices(key);
    // then
    expect(statementsOf(Template.fromStack(stack))).toContainEqual(DENY_GRANTS_NOT_FOR_AWS_RESOURCES);
  });

  test("only this region's CloudWatch Logs may use the key, for log groups of this account and region", () => {
    // given
    const { stack } = oneStack({ region: 'eu-central-1' });
    const key = new kms.Key(stack, 'Key');
    // when
    allowRegionalLogs(key);
    // then
    const logs = statementsOf(Template.fromStack(stack)).filter((s) => s.Sid === 'AllowCloudWatchLogsOfThisRegion');
    expect(logs).toEqual([
      {
        Sid: 'AllowCloudWatchLogsOfThisRegion',
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
        Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: '*',
        Condition: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-central-1:123456789012:log-group:*' },
        },
      },
    ]);
  });
});
