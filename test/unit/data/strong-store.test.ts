import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { StrongStore } from '../../../lib/data/strong-store';
import { acknowledgedRules, isolatedVpc, oneStack } from '../../support/one-stack';
import { expectOnlyRotationReachesCluster, expectSecondaryMember } from '../../support/strong-store';
import { resourcesOf } from '../../support/templates';

const IDENTIFIER = 'commerce-eu-strong';

function build(role: 'primary' | 'secondary') {
  const { stack } = oneStack({ region: role === 'primary' ? 'eu-west-1' : 'eu-central-1' });
  const vpc = isolatedVpc(stack);
  const dataKey = new kms.Key(stack, 'DataKey');
  const store = new StrongStore(stack, 'StrongStore', {
    role,
    globalClusterIdentifier: IDENTIFIER,
    vpc,
    storageKey: dataKey,
  });
  const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(dataKey.node.defaultChild as kms.CfnKey), 'Arn'] };
  return { stack, store, template: Template.fromStack(stack), keyArn };
}

describe('StrongStore, primary', () => {
  // given the region's VPC and key; when the primary member is built
  const { stack, store, template, keyArn } = build('primary');

  test('creates the global cluster and joins its encrypted, IAM-authenticated writer cluster to it', () => {
    // then
    template.hasResource('AWS::RDS::GlobalCluster', {
      Properties: {
        GlobalClusterIdentifier: IDENTIFIER,
        Engine: 'aurora-postgresql',
        StorageEncrypted: true,
        DeletionProtection: true,
      },
      DeletionPolicy: 'Retain',
    });
    const [globalClusterId] = Object.keys(resourcesOf(template, 'AWS::RDS::GlobalCluster'));
    template.hasResource('AWS::RDS::DBCluster', {
      Properties: {
        GlobalClusterIdentifier: { Ref: globalClusterId },
        MasterUsername: 'commerce_admin',
        DatabaseName: 'commerce',
        StorageEncrypted: true,
        KmsKeyId: keyArn,
        EnableIAMDatabaseAuthentication: true,
        DeletionProtection: true,
        BackupRetentionPeriod: 14,
        EnableCloudwatchLogsExports: ['postgresql'],
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('the master secret is encrypted with the region key, rotated monthly from inside the VPC, and retained', () => {
    // then
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: { KmsKeyId: keyArn },
      DeletionPolicy: 'Retain',
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      HostedRotationLambda: { RotationType: 'PostgreSQLSingleUser' },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.eu-west-1.secretsmanager',
      VpcEndpointType: 'Interface',
    });
  });

  test('a writer and a reader, serverless v2 from 0.5 to 16 ACUs, each with enhanced monitoring', () => {
    // then
    const instances = Object.values(resourcesOf(template, 'AWS::RDS::DBInstance')).map((i) => i.Properties as any);
    expect(instances).toHaveLength(2);
    for (const instance of instances) {
      expect(instance).toMatchObject({ DBInstanceClass: 'db.serverless', MonitoringInterval: 60 });
      expect(instance.MonitoringRoleArn).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
    });
  });

  test('the cluster accepts only the rotation function; no security group has inline ingress', () => {
    // then
    expectOnlyRotationReachesCluster(template);
  });

  test("acknowledges the monitoring role's AWS-managed policy; no CDK log-retention function is left to acknowledge", () => {
    // then
    const monitoringRole = store.cluster.node.findChild('MonitoringRole');
    expect(acknowledgedRules(monitoringRole)).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    ]);
    expect(stack.node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a')).toBeUndefined();
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  test('the exported PostgreSQL log has its group in the template, with the key and a year, before any instance', () => {
    // then
    const clusterId = stack.getLogicalId(store.cluster.node.defaultChild as rds.CfnDBCluster);
    const groupId = stack.getLogicalId(store.postgresqlLogGroup.node.defaultChild as logs.CfnLogGroup);
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[groupId]?.Properties).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['/aws/rds/cluster/', { Ref: clusterId }, '/postgresql']] },
      KmsKeyId: keyArn,
      RetentionInDays: 365,
    });
    const instances = Object.values(resourcesOf(template, 'AWS::RDS::DBInstance')) as { DependsOn?: string[] }[];
    expect(instances).toHaveLength(2);
    for (const instance of instances) expect(instance.DependsOn).toContain(groupId);
  });

  test('the hosted rotation function is named, so its log group is declared first, with the key and a year', () => {
    // then
    const groupId = stack.getLogicalId(store.rotationLogGroup?.node.defaultChild as logs.CfnLogGroup);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      HostedRotationLambda: { RotationLambdaName: 'Test-MasterSecretRotation' },
    });
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[groupId]?.Properties).toEqual({
      LogGroupName: '/aws/lambda/Test-MasterSecretRotation',
      KmsKeyId: keyArn,
      RetentionInDays: 365,
    });
    const [schedule] = Object.values(resourcesOf(template, 'AWS::SecretsManager::RotationSchedule')) as {
      DependsOn?: string[];
    }[];
    expect(schedule?.DependsOn).toContain(groupId);
  });

  test('the Secrets Manager endpoint lets this account read and rotate the master secret, and nothing else', () => {
    // then
    const secretRef = stack.resolve(store.master?.secret.secretArn);
    const thisAccount = { StringEquals: { 'aws:PrincipalAccount': '123456789012' } };
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.eu-west-1.secretsmanager',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'MasterSecretOnly',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: secretRef,
            Condition: thisAccount,
          },
          {
            Sid: 'RandomPasswordForRotation',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetRandomPassword',
            Resource: '*',
            Condition: thisAccount,
          },
        ],
      },
    });
  });

  test('the log groups can take a key and a retention of their own', () => {
    // given
    const { stack: other } = oneStack();
    const logKey = new kms.Key(other, 'LogKey');
    // when
    new StrongStore(other, 'StrongStore', {
      role: 'primary',
      globalClusterIdentifier: IDENTIFIER,
      vpc: isolatedVpc(other),
      storageKey: new kms.Key(other, 'DataKey'),
      logEncryptionKey: logKey,
      logRetention: logs.RetentionDays.THREE_MONTHS,
    });
    // then
    const logKeyArn = { 'Fn::GetAtt': [other.getLogicalId(logKey.node.defaultChild as kms.CfnKey), 'Arn'] };
    const groups = Object.values(resourcesOf(Template.fromStack(other), 'AWS::Logs::LogGroup'));
    expect(groups.map((group) => [group.Properties?.KmsKeyId, group.Properties?.RetentionInDays])).toEqual([
      [logKeyArn, 90],
      [logKeyArn, 90],
    ]);
  });

  test('refuses a stack name that would make the rotation function name too long, naming the construct', () => {
    // given
    const { app } = oneStack();
    const long = new Stack(app, 'S'.repeat(50), { env: { account: '123456789012', region: 'eu-west-1' } });
    // when, then
    expect(
      () =>
        new StrongStore(long, 'StrongStore', {
          role: 'primary',
          globalClusterIdentifier: IDENTIFIER,
          vpc: isolatedVpc(long),
          storageKey: new kms.Key(long, 'DataKey'),
        }),
    ).toThrow(`${'S'.repeat(50)}/StrongStore: the rotation function's name`);
  });

  test('sits in the isolated subnets of the VPC', () => {
    // then
    const subnetGroup = Object.values(resourcesOf(template, 'AWS::RDS::DBSubnetGroup'))[0]?.Properties as any;
    const isolated = (store.cluster.vpc as ec2.Vpc).isolatedSubnets.map((s) => stack.resolve(s.subnetId));
    expect(subnetGroup.SubnetIds).toEqual(isolated);
  });
});

describe('StrongStore, secondary', () => {
  // given the region's VPC and key; when a secondary member is built
  const { stack, store, template, keyArn } = build('secondary');

  test('its exported PostgreSQL log has its group too, before its instances', () => {
    // then
    const groupId = stack.getLogicalId(store.postgresqlLogGroup.node.defaultChild as logs.CfnLogGroup);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[groupId]?.Properties).toMatchObject({
      KmsKeyId: keyArn,
      RetentionInDays: 365,
    });
    for (const instance of Object.values(resourcesOf(template, 'AWS::RDS::DBInstance')) as { DependsOn?: string[] }[]) {
      expect(instance.DependsOn).toContain(groupId);
    }
  });

  test('joins the global cluster by identifier, with no credentials, database name or secret of its own', () => {
    // then
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const cluster = expectSecondaryMember(template, IDENTIFIER);
    expect(cluster.Properties).toMatchObject({ KmsKeyId: keyArn });
    expect(cluster.DeletionPolicy).toBe('Retain');
  });
});
