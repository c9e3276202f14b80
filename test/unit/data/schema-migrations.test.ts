import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SchemaMigrations } from '../../../lib/data/schema-migrations';
import { StrongStore } from '../../../lib/data/strong-store';
import { isolatedVpc, oneStack } from '../../support/one-stack';
import { type LooseResource, onlyOfType, resourcesOf, variablesOf } from '../../support/templates';

function build(role: 'primary' | 'secondary') {
  const { stack } = oneStack({ region: role === 'primary' ? 'eu-west-1' : 'eu-central-1' });
  const vpc = isolatedVpc(stack);
  const dataKey = new kms.Key(stack, 'DataKey');
  const store = new StrongStore(stack, 'StrongStore', {
    role,
    globalClusterIdentifier: 'commerce-eu-strong',
    vpc,
    storageKey: dataKey,
  });
  const migrations = new SchemaMigrations(stack, 'SchemaMigrations', {
    vpc,
    cluster: store.cluster,
    master: store.master,
    logEncryptionKey: dataKey,
  });
  return { stack, store, migrations, template: Template.fromStack(stack) };
}

const policyText = (template: Template) => JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy'));

describe.each(['primary', 'secondary'] as const)('SchemaMigrations, %s region', (role) => {
  // given the region's cluster; when its migrations are added
  const { stack, store, migrations, template } = build(role);
  const [triggerId, trigger] = onlyOfType(template, 'Custom::Trigger');
  const functionId = stack.getLogicalId(migrations.function.node.defaultChild as CfnElement);
  const clusterId = stack.getLogicalId(store.cluster.node.defaultChild as CfnElement);

  test('a trigger runs the migration function after the cluster, its instances and its network path exist', () => {
    // then
    const versionId = (trigger.Properties?.HandlerArn as { Ref?: string } | undefined)?.Ref ?? '';
    const version = resourcesOf(template, 'AWS::Lambda::Version')[versionId];
    expect(version?.Properties?.FunctionName).toEqual({ Ref: functionId });
    const dependsOn = (trigger as LooseResource & { DependsOn?: string[] }).DependsOn ?? [];
    expect(dependsOn).toEqual(expect.arrayContaining([clusterId]));
    const instances = Object.keys(resourcesOf(template, 'AWS::RDS::DBInstance'));
    expect(instances).toHaveLength(2);
    expect(dependsOn).toEqual(expect.arrayContaining(instances));
    const pathRules = [
      ...Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')),
      ...Object.entries(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
        .filter(([, rule]) => JSON.stringify(rule.Properties?.SourceSecurityGroupId).includes('SchemaMigrations'))
        .map(([id]) => id),
    ];
    expect(pathRules.length).toBeGreaterThan(0);
    expect(dependsOn).toEqual(expect.arrayContaining(pathRules));
    expect(triggerId).toMatch(/^SchemaMigrationsTrigger/);
  });

  test('the function runs in the isolated subnets and reaches the cluster on 5432 only', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId];
    expect((fn?.Properties?.VpcConfig as { SubnetIds?: unknown[] } | undefined)?.SubnetIds).toHaveLength(3);
    const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).filter((rule) =>
      JSON.stringify(rule.Properties?.SourceSecurityGroupId).includes('SchemaMigrationsSecurityGroup'),
    );
    expect(ingress.map((rule) => [rule.Properties?.FromPort, JSON.stringify(rule.Properties?.GroupId)])).toEqual(
      expect.arrayContaining([
        [{ 'Fn::GetAtt': [clusterId, 'Endpoint.Port'] }, expect.stringContaining('StrongStoreClusterSecurityGroup')],
      ]),
    );
    // Each instance, not the cluster endpoint: a secondary cluster's writer endpoint does not answer.
    const instanceIds = Object.keys(resourcesOf(template, 'AWS::RDS::DBInstance')).sort();
    const endpoints = JSON.stringify(variablesOf(fn).DB_INSTANCE_ENDPOINTS);
    expect(instanceIds.map((id) => endpoints.includes(`"${id}","Endpoint.Address"`))).toEqual([true, true]);
    expect(endpoints).not.toContain(`"${clusterId}"`);
    expect(variablesOf(fn)).toMatchObject({ NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' });
  });

  if (role === 'primary') {
    test('the primary signs in with the master secret, read through the VPC endpoint', () => {
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId];
      // The cluster's secret, through its attachment (which adds the host and port).
      const [attachmentId] = Object.keys(resourcesOf(template, 'AWS::SecretsManager::SecretTargetAttachment'));
      expect(variablesOf(fn).DB_SECRET_ARN).toEqual({ Ref: attachmentId });
      expect(policyText(template)).toContain('secretsmanager:GetSecretValue');
      expect(policyText(template)).not.toContain('rds-db:connect');
      const endpointIngress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).filter(
        (rule) =>
          JSON.stringify(rule.Properties?.GroupId).includes('SecretsManagerEndpoint') &&
          JSON.stringify(rule.Properties?.SourceSecurityGroupId).includes('SchemaMigrationsSecurityGroup'),
      );
      expect(endpointIngress.map((rule) => rule.Properties?.FromPort)).toEqual([443]);
    });
  } else {
    test('a secondary signs in as the migration role with IAM and holds no secret', () => {
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionId];
      expect(variablesOf(fn)).not.toHaveProperty('DB_SECRET_ARN');
      expect(policyText(template)).toContain('rds-db:connect');
      expect(policyText(template)).toContain('/commerce_migrator');
      expect(policyText(template)).not.toContain('secretsmanager:');
    });
  }
});
