import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { esbuildOptions } from '../../../lib/functions/esbuild-bundling';
import { acknowledgeExecutionRole, VPC_NETWORK_INTERFACE_ACTIONS } from '../../../lib/functions/execution-role';
import { NodeFunction } from '../../../lib/functions/node-function';
import { acknowledgedRules, isolatedVpc, oneStack } from '../../support/one-stack';
import { resourcesOf } from '../../support/templates';

const ENTRY = path.join(__dirname, '..', '..', '..', 'lambda', 'cart', 'handler.ts');

describe('NodeFunction', () => {
  test('given an entry, it is a Node.js 24 function on arm64 logging JSON, handler index.handler', () => {
    // given
    const { stack } = oneStack();
    // when
    new NodeFunction(stack, 'Cart', { entry: ENTRY, memorySize: 512 });
    // then
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      LoggingConfig: { LogFormat: 'JSON' },
    });
  });

  test('function options it does not fix pass through, and the ones it fixes win', () => {
    // given
    const { stack } = oneStack();
    // when
    new NodeFunction(stack, 'Cart', { entry: ENTRY, tracing: lambda.Tracing.ACTIVE, environment: { A: 'b' } });
    // then
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { A: 'b' } },
    });
  });

  test('it logs to the group it is given, which its role may write and nothing else; no managed policy', () => {
    // given
    const { stack } = oneStack();
    const logGroup = new logs.LogGroup(stack, 'CartLogs', { encryptionKey: new kms.Key(stack, 'Key') });
    // when
    const fn = new NodeFunction(stack, 'Cart', { entry: ENTRY, logGroup });
    // then
    const template = Template.fromStack(stack);
    const groupId = stack.getLogicalId(logGroup.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: groupId } },
    });
    const roleId = stack.getLogicalId(fn.role?.node.defaultChild as CfnElement);
    const role = resourcesOf(template, 'AWS::IAM::Role')[roleId]?.Properties ?? {};
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const [policy] = Object.values(resourcesOf(template, 'AWS::IAM::Policy'));
    expect(policy?.Properties?.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [groupId, 'Arn'] },
        },
      ],
    });
    // Nothing to acknowledge for a function outside a VPC that does not trace.
    acknowledgeExecutionRole(fn);
    expect(acknowledgedRules(fn.role as iam.Role)).toEqual([]);
  });

  test('in a VPC, its role gets the network-interface actions inline, at creation, in place of the VPC managed policy', () => {
    // given
    const { stack } = oneStack();
    const vpc = isolatedVpc(stack);
    // when
    const fn = new NodeFunction(stack, 'Cart', {
      entry: ENTRY,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      tracing: lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(stack, 'CartLogs'),
    });
    acknowledgeExecutionRole(fn);
    // then
    const template = Template.fromStack(stack);
    const role = resourcesOf(template, 'AWS::IAM::Role')[stack.getLogicalId(fn.role?.node.defaultChild as CfnElement)];
    expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties?.Policies).toEqual([
      {
        PolicyName: 'VpcNetworkInterfaces',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: [...VPC_NETWORK_INTERFACE_ACTIONS], Resource: '*' }],
        },
      },
    ]);
    // One acknowledgement of '*', naming both reasons: the network interfaces and X-Ray.
    expect(acknowledgedRules(fn.role as iam.Role)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    const reason = JSON.stringify(fn.role?.node.metadata.map((entry) => entry.data));
    expect(reason).toContain('network interfaces');
    expect(reason).toContain('xray:PutTraceSegments');
  });

  test("a role given to it is the giver's: left as it is", () => {
    // given
    const { stack } = oneStack();
    const role = new iam.Role(stack, 'Given', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    // when
    new NodeFunction(stack, 'Cart', { entry: ENTRY, role, logGroup: new logs.LogGroup(stack, 'CartLogs') });
    // then
    const template = Template.fromStack(stack);
    const given = resourcesOf(template, 'AWS::IAM::Role')[stack.getLogicalId(role.node.defaultChild as CfnElement)];
    expect(JSON.stringify(given?.Properties?.ManagedPolicyArns)).toContain('AWSLambdaBasicExecutionRole');
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test("without a group, it writes CDK's /aws/lambda/<name> group, through a policy of its own", () => {
    // given
    const { stack } = oneStack();
    // when
    const fn = new NodeFunction(stack, 'Cart', { entry: ENTRY });
    // then
    const template = Template.fromStack(stack);
    const fnId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
    const [groupId, group] = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'))[0] ?? [];
    expect(group?.Properties?.LogGroupName).toEqual({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: fnId }]] });
    const [policyId, policy] = Object.entries(resourcesOf(template, 'AWS::IAM::Policy'))[0] ?? [];
    expect(policyId).toMatch(/^CartLogsPolicy/);
    expect(JSON.stringify(policy?.Properties?.PolicyDocument)).toContain(String(groupId));
  });

  test('bundles: one minified CommonJS file per function, the AWS SDK inside, pg-native out', () => {
    // when
    const options = esbuildOptions({ entry: ENTRY }, '/out');
    // then
    expect(options).toMatchObject({
      entryPoints: [ENTRY],
      outfile: path.join('/out', 'index.js'),
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      external: ['pg-native'],
    });
    expect(options.external).not.toContain('@aws-sdk/*');
    expect(esbuildOptions({ entry: ENTRY, outfile: 'nodejs/x.js', externalModules: [] }, '/out')).toMatchObject({
      outfile: path.join('/out', 'nodejs', 'x.js'),
      external: [],
    });
  });
});
