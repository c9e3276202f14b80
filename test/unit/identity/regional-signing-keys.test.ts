import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RegionalSigningKeys } from '../../../lib/identity/regional-signing-keys';
import { oneStack } from '../../support/one-stack';
import { onlyOfType, resourcesOf, variablesOf } from '../../support/templates';

const PARAMETER = '/Commerce/eu/user-pool-signing-keys';

describe('RegionalSigningKeys', () => {
  // given a region of the EU jurisdiction, whose pool lives in eu-west-1; when its key copy is added
  const { stack } = oneStack({ region: 'eu-central-1' });
  const logKey = new kms.Key(stack, 'Key');
  const keys = new RegionalSigningKeys(stack, 'SigningKeys', {
    userPoolId: 'eu-west-1_AbCdEfGhI',
    parameterName: PARAMETER,
    logEncryptionKey: logKey,
  });
  const reader = new lambda.Function(stack, 'Authorizer', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  keys.grantRead(reader);
  keys.readBy(reader);
  const template = Template.fromStack(stack);
  const copierId = stack.getLogicalId(keys.function.node.defaultChild as CfnElement);
  const readerId = stack.getLogicalId(reader.node.defaultChild as CfnElement);
  const parameterArn = 'arn:aws:ssm:eu-central-1:123456789012:parameter/Commerce/eu/user-pool-signing-keys';

  test("the copier is told the pool and this region's parameter, and may only read and write that parameter", () => {
    const copier = resourcesOf(template, 'AWS::Lambda::Function')[copierId];
    expect(variablesOf(copier)).toMatchObject({
      USER_POOL_ID: 'eu-west-1_AbCdEfGhI',
      SIGNING_KEYS_PARAMETER: PARAMETER,
    });
    expect(copier?.Properties?.VpcConfig).toBeUndefined();
    const copyKeyArn = { 'Fn::GetAtt': [stack.getLogicalId(keys.copyKey.node.defaultChild as CfnElement), 'Arn'] };
    const logsArn = {
      'Fn::GetAtt': [stack.getLogicalId(keys.function.logGroup.node.defaultChild as CfnElement), 'Arn'],
    };
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: logsArn },
          { Action: ['ssm:GetParameter', 'ssm:PutParameter'], Effect: 'Allow', Resource: parameterArn },
          { Action: ['kms:Sign', 'kms:Verify'], Effect: 'Allow', Resource: copyKeyArn },
        ],
      },
    });
    expect(variablesOf(copier)).toMatchObject({ SIGNING_KEYS_COPY_KEY: copyKeyArn });
  });

  test("the copier and the stack's trigger provider log to groups of their own, under the log key, kept a year", () => {
    const logKeyArn = { 'Fn::GetAtt': [stack.getLogicalId(logKey.node.defaultChild as CfnElement), 'Arn'] };
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    const copierGroup = stack.getLogicalId(keys.function.logGroup.node.defaultChild as CfnElement);
    const [providerGroup] = Object.keys(groups).filter((id) => id.startsWith('AWSCDKTriggerCustomResourceProvider'));
    for (const id of [copierGroup, providerGroup]) {
      expect(groups[id as string]?.Properties).toEqual({ KmsKeyId: logKeyArn, RetentionInDays: 365 });
    }
    const [, provider] = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('AWSCDKTriggerCustomResourceProvider'),
    ) as [string, { Properties?: Record<string, unknown> }];
    expect(provider.Properties?.LoggingConfig).toEqual({ LogGroup: { Ref: providerGroup } });
  });

  test('the copy is signed with an asymmetric key of its own, whose signature the reader verifies', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  test('no parameter is declared: a declared value would be put back by every deploy', () => {
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('it copies at deploy, before the reader is created or updated, and every 6 hours', () => {
    const [triggerId, trigger] = onlyOfType(template, 'Custom::Trigger');
    expect(JSON.stringify(trigger.Properties?.HandlerArn)).toContain('SigningKeysFunctionCurrentVersion');
    const readerResource = template.toJSON().Resources[readerId] as { DependsOn?: string[] };
    expect(readerResource.DependsOn).toEqual(expect.arrayContaining([triggerId]));
    const [, rule] = onlyOfType(template, 'AWS::Events::Rule');
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(6 hours)',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [copierId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      SourceAccount: '123456789012',
    });
  });

  test('the reader may read the parameter and not write it', () => {
    const readerPolicies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties?.Roles).includes('AuthorizerServiceRole'),
    );
    const copyKeyArn = { 'Fn::GetAtt': [stack.getLogicalId(keys.copyKey.node.defaultChild as CfnElement), 'Arn'] };
    expect(readerPolicies.map((policy) => policy.Properties?.PolicyDocument)).toEqual([
      {
        Statement: [
          { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: parameterArn },
          { Action: 'kms:Verify', Effect: 'Allow', Resource: copyKeyArn },
        ],
        Version: '2012-10-17',
      },
    ]);
  });
});
