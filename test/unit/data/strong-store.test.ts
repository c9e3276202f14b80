import { Template } from 'aws-cdk-lib/assertions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
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

  test("acknowledges the monitoring role's AWS-managed policy and CDK's log-retention function", () => {
    // then
    const monitoringRole = store.cluster.node.findChild('MonitoringRole');
    expect(acknowledgedRules(monitoringRole)).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    ]);
    const logRetention = stack.node.findChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
    expect(acknowledgedRules(logRetention.node.findChild('Resource'))).toEqual([
      'cdk-validator-cfnguard::lambda_inside_vpc_check',
    ]);
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
  const { template, keyArn } = build('secondary');

  test('joins the global cluster by identifier, with no credentials, database name or secret of its own', () => {
    // then
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    const cluster = expectSecondaryMember(template, IDENTIFIER);
    expect(cluster.Properties).toMatchObject({ KmsKeyId: keyArn });
    expect(cluster.DeletionPolicy).toBe('Retain');
  });
});
