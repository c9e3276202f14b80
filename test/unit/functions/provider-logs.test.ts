import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as triggers from 'aws-cdk-lib/triggers';
import { confineProviderLogs } from '../../../lib/functions/provider-logs';
import { acknowledgeTriggerProvider } from '../../../lib/functions/trigger-provider';
import { acknowledgedRules, oneStack } from '../../support/one-stack';
import { resourcesOf } from '../../support/templates';

/** The provider's construct id in its stack, and the prefix of its resources' logical ids. */
const PROVIDER_ID = 'AWSCDK.TriggerCustomResourceProviderCustomResourceProvider';
const PROVIDER = 'AWSCDKTriggerCustomResourceProviderCustomResourceProvider';

function stackWithTrigger() {
  const { stack } = oneStack();
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  new triggers.Trigger(stack, 'Trigger', { handler });
  const key = new kms.Key(stack, 'LogKey');
  return { stack, key };
}

describe("CDK's custom-resource providers", () => {
  test('the trigger provider logs to a group of its own, made first, with the key and a year', () => {
    // given a stack with a trigger; when its provider is configured
    const { stack, key } = stackWithTrigger();
    acknowledgeTriggerProvider(stack, key);
    // then
    const template = Template.fromStack(stack);
    const [groupId, group] =
      Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup')).find(([id]) => id.startsWith(PROVIDER)) ?? [];
    expect(group?.Properties).toEqual({
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] },
      RetentionInDays: 365,
    });
    const handler = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(PROVIDER),
    )?.[1];
    expect(handler?.Properties?.LoggingConfig).toEqual({ LogGroup: { Ref: groupId } });
  });

  test("the provider's role has no managed policy and writes its own group only", () => {
    // given, when
    const { stack, key } = stackWithTrigger();
    const group = confineProviderLogs(stack.node.findChild(PROVIDER_ID), { encryptionKey: key });
    // then
    const template = Template.fromStack(stack);
    const role = Object.entries(resourcesOf(template, 'AWS::IAM::Role')).find(([id]) => id.startsWith(PROVIDER))?.[1];
    expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    const statements = ((role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: unknown[] } }[]).flatMap(
      (policy) => policy.PolicyDocument.Statement,
    );
    const logStatements = statements.filter((statement) => JSON.stringify(statement).includes('logs:'));
    expect(logStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(group.node.defaultChild as CfnElement), 'Arn'] },
      },
    ]);
  });

  test('a second call for the same provider returns the first group and adds nothing', () => {
    // given
    const { stack, key } = stackWithTrigger();
    const provider = stack.node.findChild(PROVIDER_ID);
    const first = confineProviderLogs(provider, { encryptionKey: key });
    // when
    const second = confineProviderLogs(provider, { encryptionKey: new kms.Key(stack, 'Other') });
    // then
    expect(second).toBe(first);
    const groups = Object.keys(resourcesOf(Template.fromStack(stack), 'AWS::Logs::LogGroup'));
    expect(groups.filter((id) => id.startsWith(PROVIDER))).toHaveLength(1);
  });

  test('a retention of its own can be given', () => {
    // given
    const { stack, key } = stackWithTrigger();
    // when
    confineProviderLogs(stack.node.findChild(PROVIDER_ID), {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_MONTH,
    });
    // then
    const groups = Object.entries(resourcesOf(Template.fromStack(stack), 'AWS::Logs::LogGroup'));
    const [, group] = groups.find(([id]) => id.startsWith(PROVIDER)) ?? [];
    expect(group?.Properties?.RetentionInDays).toBe(30);
  });

  test('anything but a CDK CustomResourceProvider is refused, by path', () => {
    // given
    const { stack, key } = stackWithTrigger();
    // when, then
    expect(() => confineProviderLogs(stack.node.findChild('Handler'), { encryptionKey: key })).toThrow(
      'Test/Handler: not a CDK CustomResourceProvider',
    );
    // and the provider's handler keeps its VPC acknowledgement
    acknowledgeTriggerProvider(stack, key);
    expect(acknowledgedRules(stack.node.findChild(PROVIDER_ID).node.findChild('Handler'))).toEqual([
      'cdk-validator-cfnguard::lambda_inside_vpc_check',
    ]);
  });
});
