import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { STRONG_STORE_ENGINE } from '../../../lib/data/strong-store';
import { StrongStoreProxy } from '../../../lib/data/strong-store-proxy';
import { isolatedVpc, oneStack } from '../../support/one-stack';
import { ingressSourcesOf, resourcesOf } from '../../support/templates';

describe('StrongStoreProxy', () => {
  // given the region's VPC, its cluster (in the stateful stack, so imported) and the functions' group
  const { stack } = oneStack();
  const vpc = isolatedVpc(stack);
  const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'StatefulCluster', {
    clusterIdentifier: 'commerce-eu-west-1-cluster',
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'ClusterGroup', 'sg-0123456789abcdef0')],
  });
  const functions = new ec2.SecurityGroup(stack, 'ApiFunctionsSecurityGroup', { vpc, allowAllOutbound: false });
  const functionRole = new iam.Role(stack, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  // when the proxy is built, the functions let in and granted a connection
  const proxy = new StrongStoreProxy(stack, 'StrongStoreProxy', { vpc, cluster, engine: STRONG_STORE_ENGINE });
  proxy.allowFrom(functions);
  proxy.grantConnect(functionRole);
  const template = Template.fromStack(stack);
  const groups = Object.keys(resourcesOf(template, 'AWS::EC2::SecurityGroup'));
  const proxyGroup = groups.find((id) => id.startsWith('StrongStoreProxySecurityGroup')) as string;
  const functionsGroup = groups.find((id) => id.startsWith('ApiFunctionsSecurityGroup')) as string;

  test('an RDS Proxy for PostgreSQL that requires TLS and IAM authentication, in the isolated subnets', () => {
    // then
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      RequireTLS: true,
      DefaultAuthScheme: 'IAM_AUTH',
      EngineFamily: 'POSTGRESQL',
      VpcSubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)),
      VpcSecurityGroupIds: [{ 'Fn::GetAtt': [proxyGroup, 'GroupId'] }],
    });
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      DBClusterIdentifiers: ['commerce-eu-west-1-cluster'],
    });
    expect(proxy.endpoint).toBe(proxy.proxy.endpoint);
  });

  test('the proxy accepts only the peers allowed, on 5432', () => {
    // then
    expect(ingressSourcesOf(template, proxyGroup)).toEqual([{ source: functionsGroup, from: 5432, to: 5432 }]);
  });

  test("the proxy reaches only the cluster, whose group lets it in from this stack's side", () => {
    // then
    const egress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress'))
      .map((r) => r.Properties as any)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(proxyGroup));
    expect(egress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [proxyGroup, 'GroupId'] },
        DestinationSecurityGroupId: 'sg-0123456789abcdef0',
        FromPort: 5432,
        ToPort: 5432,
      }),
    ]);
    const clusterIngress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
      .filter((rule) => rule.Properties?.GroupId === 'sg-0123456789abcdef0')
      .map((rule) => rule.Properties?.SourceSecurityGroupId);
    expect(clusterIngress).toEqual([{ 'Fn::GetAtt': [proxyGroup, 'GroupId'] }]);
  });

  test('a grantee may connect as the application database user only', () => {
    // then
    const policy = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))[0]?.Properties as any;
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'rds-db:connect', Effect: 'Allow' }),
    ]);
    expect(JSON.stringify(policy.PolicyDocument.Statement[0].Resource)).toContain('/commerce_app');
  });
});
