import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { RegionalCache } from '../../../lib/cache/regional-cache';
import { isolatedVpc, oneStack } from '../../support/one-stack';
import { ingressSourcesOf, resourcesOf } from '../../support/templates';

function build(maxDataStorageGb?: number) {
  const { stack } = oneStack();
  const vpc = isolatedVpc(stack);
  const key = new kms.Key(stack, 'DataKey');
  const functions = new ec2.SecurityGroup(stack, 'ApiFunctionsSecurityGroup', { vpc, allowAllOutbound: false });
  const cache = new RegionalCache(stack, 'Cache', {
    vpc,
    cacheName: 'commerce-eu-west-1',
    encryptionKey: key,
    maxDataStorageGb,
  });
  return { stack, vpc, key, functions, cache };
}

describe('RegionalCache', () => {
  test('serverless Valkey 8 in the isolated subnets, encrypted with the given key, its storage capped', () => {
    // given the region's VPC and key; when the cache is built
    const { stack, vpc, key } = build();
    // then
    const template = Template.fromStack(stack);
    const cacheGroup = Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroup')).find((id) =>
      id.startsWith('CacheSecurityGroup'),
    ) as string;
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      ServerlessCacheName: 'commerce-eu-west-1',
      Engine: 'valkey',
      MajorEngineVersion: '8',
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      SecurityGroupIds: [{ 'Fn::GetAtt': [cacheGroup, 'GroupId'] }],
      SubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' } },
    });
  });

  test('reachable from nothing until a peer is allowed, then from that peer only, on 6379-6380', () => {
    const groupOf = (template: Template, prefix: string) =>
      Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroup')).find((id) => id.startsWith(prefix)) as string;
    // given a cache nobody was allowed into
    const alone = Template.fromStack(build().stack);
    expect(ingressSourcesOf(alone, groupOf(alone, 'CacheSecurityGroup'))).toEqual([]);
    // when the functions are allowed
    const { stack, cache, functions } = build();
    cache.allowFrom(functions);
    // then
    const allowed = Template.fromStack(stack);
    expect(ingressSourcesOf(allowed, groupOf(allowed, 'CacheSecurityGroup'))).toEqual([
      { source: groupOf(allowed, 'ApiFunctionsSecurityGroup'), from: 6379, to: 6380 },
    ]);
  });

  test('the storage cap can be raised', () => {
    // given, when
    const { stack } = build(50);
    // then
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      CacheUsageLimits: { DataStorage: { Maximum: 50, Unit: 'GB' } },
    });
  });
});
