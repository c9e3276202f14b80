import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NodeFunction } from '../../../lib/functions/node-function';
import { CardPayments } from '../../../lib/payments/card-payments';
import { acknowledgedRules, isolatedVpc, oneStack } from '../../support/one-stack';
import { ingressSourcesOf, onlyOfType, resourcesOf } from '../../support/templates';

function build() {
  const { stack } = oneStack();
  const vpc = isolatedVpc(stack);
  const key = new kms.Key(stack, 'LogKey');
  const ordersGroup = new ec2.SecurityGroup(stack, 'OrdersSecurityGroup', { vpc, allowAllOutbound: false });
  const orders = new NodeFunction(stack, 'OrdersFunction', {
    entry: path.join(__dirname, '..', '..', '..', 'lambda', 'orders', 'handler.ts'),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [ordersGroup],
    environment: { JURISDICTION: 'eu' },
    logGroup: new logs.LogGroup(stack, 'OrdersLogs', { encryptionKey: key }),
  });
  const payments = new CardPayments(stack, 'CardPayments', {
    vpc,
    secretName: 'commerce/stripe',
    caller: orders,
    logEncryptionKey: key,
  });
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as unknown as ec2.CfnSecurityGroup);
  return { stack, vpc, key, orders, ordersGroup, payments, template, id };
}

describe('CardPayments', () => {
  test('the payments function runs outside the VPC, told only its secret, logging to the encrypted group', () => {
    // given the region's VPC and the orders function; when card payments are added
    const { payments, template, id, key } = build();
    // then
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[id(payments.function)];
    expect(fn?.Properties).not.toHaveProperty('VpcConfig');
    expect(fn?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 15,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          PAYMENTS_SECRET_NAME: 'commerce/stripe',
          POWERTOOLS_SERVICE_NAME: 'payments',
          POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [id(key), 'Arn'] },
      RetentionInDays: 365,
    });
    expect(acknowledgedRules(payments.function.node.defaultChild as lambda.CfnFunction)).toEqual([
      'cdk-validator-cfnguard::lambda_inside_vpc_check',
    ]);
  });

  test('it may read its one secret, by name, and the orders function may invoke it and nothing more', () => {
    // given, when
    const { payments, orders, template, id } = build();
    // then
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy'));
    const statementsOf = (roleId: string) =>
      policies
        .filter((p) => JSON.stringify(p.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => (p.Properties?.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement ?? []);
    const paymentsRole = id(payments.function.role as unknown as { node: { defaultChild?: unknown } });
    expect(statementsOf(paymentsRole)).toContainEqual({
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Effect: 'Allow',
      Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:commerce/stripe-??????',
    });
    const ownLogs = (group: string) => ({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [group, 'Arn'] },
    });
    const paymentsLogs = id(payments.function.logGroup as unknown as { node: { defaultChild?: unknown } });
    const others = statementsOf(paymentsRole).filter(
      (s) => ![(s as { Action: string | string[] }).Action].flat().some((a) => /^(xray|secretsmanager):/.test(a)),
    );
    expect(others).toEqual([ownLogs(paymentsLogs)]);
    const ordersRole = id(orders.role as unknown as { node: { defaultChild?: unknown } });
    const ordersLogs = id(orders.logGroup as unknown as { node: { defaultChild?: unknown } });
    expect(statementsOf(ordersRole)).toEqual([
      ownLogs(ordersLogs),
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [id(payments.function), 'Arn'] },
      },
    ]);
  });

  test('a Lambda endpoint in the isolated subnets, reachable on 443 from the orders function only', () => {
    // given, when
    const { stack, vpc, ordersGroup, payments, template, id } = build();
    // then
    const [, endpoint] = onlyOfType(template, 'AWS::EC2::VPCEndpoint');
    expect(endpoint.Properties).toMatchObject({
      ServiceName: 'com.amazonaws.eu-west-1.lambda',
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      SubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
    });
    const endpointGroup = stack.resolve(payments.endpoint.connections.securityGroups[0]?.securityGroupId)[
      'Fn::GetAtt'
    ][0];
    expect(ingressSourcesOf(template, endpointGroup)).toEqual([{ source: id(ordersGroup), from: 443, to: 443 }]);
  });

  test("the Lambda endpoint's policy lets this account invoke the payments function and nothing else", () => {
    // given, when
    const { payments, template, id } = build();
    // then
    const [, endpoint] = onlyOfType(template, 'AWS::EC2::VPCEndpoint');
    expect(endpoint.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'InvokePaymentsFunctionOnly',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [id(payments.function), 'Arn'] },
          Condition: { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
        },
      ],
    });
  });

  test('the orders function is switched to Stripe through the payments function, its other settings kept', () => {
    // given, when
    const { orders, payments, template, id } = build();
    // then
    expect(resourcesOf(template, 'AWS::Lambda::Function')[id(orders)]?.Properties?.Environment).toEqual({
      Variables: { JURISDICTION: 'eu', PAYMENT_PROCESSOR: 'stripe', PAYMENTS_FUNCTION: { Ref: id(payments.function) } },
    });
  });

  test('without a log key, in a VPC no RegionalNetwork built, it refuses to build, naming itself', () => {
    // given a VPC of no RegionalNetwork
    const { stack } = oneStack();
    const vpc = isolatedVpc(stack);
    const orders = new NodeFunction(stack, 'OrdersFunction', {
      entry: path.join(__dirname, '..', '..', '..', 'lambda', 'orders', 'handler.ts'),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    // when, then
    expect(() => new CardPayments(stack, 'CardPayments', { vpc, secretName: 's', caller: orders })).toThrow(
      'Test/CardPayments: no logEncryptionKey given',
    );
  });
});
