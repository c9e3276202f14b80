import type { Template } from 'aws-cdk-lib/assertions';
import { type LooseResource, onlyOfType, resourcesOf } from './templates';

/**
 * Asserts that `template` holds a secondary member of the Aurora global cluster `identifier`:
 * no global cluster or secret of its own, and one encrypted, deletion-protected cluster that
 * joins by identifier with no credentials, database name or replication source. Returns
 * that cluster for the caller's own checks.
 */
export function expectSecondaryMember(template: Template, identifier: string): LooseResource {
  template.resourceCountIs('AWS::RDS::GlobalCluster', 0);
  template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  template.resourceCountIs('AWS::RDS::DBCluster', 1);
  const [, cluster] = onlyOfType(template, 'AWS::RDS::DBCluster');
  const props = cluster.Properties;
  expect(props.GlobalClusterIdentifier).toBe(identifier);
  expect(props).not.toHaveProperty('MasterUsername');
  expect(props).not.toHaveProperty('MasterUserPassword');
  expect(props).not.toHaveProperty('DatabaseName');
  expect(props).not.toHaveProperty('ReplicationSourceIdentifier');
  expect(props).toMatchObject({ StorageEncrypted: true, DeletionProtection: true });
  return cluster;
}

/**
 * Asserts that in `template` (a primary's stateful stack) only the rotation function's group
 * and the groups named in `alsoFrom` may reach the cluster, and that no security group has
 * inline ingress.
 */
export function expectOnlyRotationReachesCluster(template: Template, alsoFrom: readonly string[] = []): void {
  const clusterIngress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
    .filter((rule) => JSON.stringify(rule.Properties?.GroupId).includes('StrongStoreClusterSecurityGroup'))
    .map((rule) => JSON.stringify(rule.Properties?.SourceSecurityGroupId));
  expect(clusterIngress.sort()).toEqual(
    [...alsoFrom, 'StrongStoreRotationSecurityGroup'].sort().map((group) => expect.stringContaining(group)),
  );
  for (const group of Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroup'))) {
    expect(group.Properties?.SecurityGroupIngress ?? []).toEqual([]);
  }
}
