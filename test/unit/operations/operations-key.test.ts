import { Template } from 'aws-cdk-lib/assertions';
import { OperationsKey } from '../../../lib/operations/operations-key';
import { oneStack } from '../../support/one-stack';
import { onlyOfType } from '../../support/templates';

describe('OperationsKey', () => {
  test('a rotated key that CloudWatch alarms and Logs of this region may use, with grants only for AWS resources', () => {
    // given
    const { stack } = oneStack({ region: 'ap-southeast-1' });
    // when
    new OperationsKey(stack, 'OperationsKey');
    // then
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    const [, key] = onlyOfType(template, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.Description).toBe(
      'Operational data of Test: alarm topic, workflow and access logs, canary artifacts',
    );
    const statements = key.Properties.KeyPolicy.Statement as Record<string, any>[];
    expect(statements.find((s) => s.Sid === 'CloudWatchAlarmsPublish')).toEqual({
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(statements.find((s) => s.Sid === 'AllowCloudWatchLogsOfThisRegion')?.Principal).toEqual({
      Service: 'logs.ap-southeast-1.amazonaws.com',
    });
    expect(statements.find((s) => s.Sid === 'DenyGrantsNotForAwsResources')).toMatchObject({
      Effect: 'Deny',
      Action: 'kms:CreateGrant',
    });
  });
});
