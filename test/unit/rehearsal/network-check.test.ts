import type { DeployedFunction } from '../../../local/rehearsal/deployment';
import { Deployment } from '../../../local/rehearsal/deployment';
import { type CfnResource, DeployedApp, type DeployedStack } from '../../../local/rehearsal/intrinsics';
import { reach } from '../../../local/rehearsal/network-check';

// Given a VPC with one isolated subnet, a function in it and an RDS Proxy, when the
// rehearsal asks whether the function reaches an endpoint, then it answers as the VPC's
// routes, endpoints and security groups would.

const REGION = 'eu-west-1';
const group = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

function network(extra: Record<string, CfnResource> = {}): { deployment: Deployment; fn: DeployedFunction } {
  const stack: DeployedStack = {
    name: 'Net',
    region: REGION,
    account: '123456789012',
    template: {
      Resources: {
        Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
        Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' } } },
        Routes: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: { Ref: 'Vpc' } } },
        Association: {
          Type: 'AWS::EC2::SubnetRouteTableAssociation',
          Properties: { SubnetId: { Ref: 'Subnet' }, RouteTableId: { Ref: 'Routes' } },
        },
        FunctionGroup: {
          Type: 'AWS::EC2::SecurityGroup',
          Properties: { VpcId: { Ref: 'Vpc' }, SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }] },
        },
        ProxyGroup: { Type: 'AWS::EC2::SecurityGroup', Properties: { VpcId: { Ref: 'Vpc' } } },
        Proxy: { Type: 'AWS::RDS::DBProxy', Properties: { VpcSecurityGroupIds: [group('ProxyGroup')] } },
        ...extra,
      },
    },
  };
  const app = new DeployedApp([stack]);
  const fn: DeployedFunction = {
    scope: { region: REGION, function: 'api:health' },
    stack,
    roleArn: 'arn:aws:iam::123456789012:role/fn',
    identityPolicies: [],
    environment: {},
    vpc: {
      subnetIds: [app.resolve(stack, { Ref: 'Subnet' })],
      securityGroupIds: [app.resolve(stack, group('FunctionGroup'))],
    },
  };
  return { deployment: new Deployment(app, [fn]), fn };
}

const ssm = { kind: 'aws-service', service: 'ssm', region: REGION, host: `ssm.${REGION}.amazonaws.com` } as const;
const proxyTarget = (deployment: Deployment) =>
  ({
    kind: 'database',
    host: deployment.app.resolve(deployment.app.stack('Net'), { 'Fn::GetAtt': ['Proxy', 'Endpoint'] }),
    port: 5432,
  }) as const;
const interfaceEndpoint = (privateDns: boolean): CfnResource => ({
  Type: 'AWS::EC2::VPCEndpoint',
  Properties: {
    VpcId: { Ref: 'Vpc' },
    VpcEndpointType: 'Interface',
    ServiceName: `com.amazonaws.${REGION}.ssm`,
    PrivateDnsEnabled: privateDns,
    SecurityGroupIds: [group('EndpointGroup')],
  },
});
const endpointGroup: CfnResource = {
  Type: 'AWS::EC2::SecurityGroup',
  Properties: {
    VpcId: { Ref: 'Vpc' },
    SecurityGroupIngress: [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: group('FunctionGroup') },
    ],
  },
};

test('with no endpoint and no route out, an AWS API is unreachable from isolated subnets', () => {
  const { deployment, fn } = network();
  const answer = reach(ssm, fn, deployment);
  expect(answer.reachable).toBe(false);
  expect(answer.path).toContain(`no VPC endpoint com.amazonaws.${REGION}.ssm`);
});

test('an interface endpoint serves the API only with private DNS and a group that admits the function on 443', () => {
  const withoutDns = network({ Endpoint: interfaceEndpoint(false), EndpointGroup: endpointGroup });
  expect(reach(ssm, withoutDns.fn, withoutDns.deployment).path).toContain('has no private DNS');
  const closed = network({
    Endpoint: interfaceEndpoint(true),
    EndpointGroup: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
  });
  expect(reach(ssm, closed.fn, closed.deployment).path).toMatch(
    /no ingress rule of sg-net-endpointgroup admits sg-net-functiongroup on 443/,
  );
  const open = network({ Endpoint: interfaceEndpoint(true), EndpointGroup: endpointGroup });
  expect(reach(ssm, open.fn, open.deployment)).toEqual({ reachable: true, path: 'interface endpoint Endpoint' });
});

test('a NAT route carries an AWS API call when no endpoint does', () => {
  const { deployment, fn } = network({
    Out: {
      Type: 'AWS::EC2::Route',
      Properties: { RouteTableId: { Ref: 'Routes' }, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1' },
    },
  });
  expect(reach(ssm, fn, deployment)).toEqual({ reachable: true, path: 'route to the internet' });
});

test("the proxy is reachable only when its group admits the function's on the port", () => {
  const closed = network();
  expect(reach(proxyTarget(closed.deployment), closed.fn, closed.deployment).reachable).toBe(false);
  const open = network({
    Rule: {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: {
        GroupId: group('ProxyGroup'),
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: group('FunctionGroup'),
      },
    },
  });
  expect(reach(proxyTarget(open.deployment), open.fn, open.deployment)).toEqual({
    reachable: true,
    path: 'Proxy on 5432',
  });
});

test('a function outside any VPC reaches public endpoints but no VPC-only store', () => {
  const { deployment, fn } = network();
  const outside = { ...fn, vpc: undefined };
  expect(reach(ssm, outside, deployment).reachable).toBe(true);
  expect(reach(proxyTarget(deployment), outside, deployment).path).toContain('inside a VPC and the function is not');
});
