import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RegionalNetwork } from '../../../lib/network/regional-network';
import { acknowledgedRules, isolatedVpc, oneStack, zonesOf } from '../../support/one-stack';
import { only, resourcesOf } from '../../support/templates';

function build(props: { flowLogRetention?: logs.RetentionDays } = {}) {
  const { stack } = oneStack();
  const key = new kms.Key(stack, 'DataKey');
  const network = new RegionalNetwork(stack, 'Network', {
    availabilityZones: zonesOf('eu-west-1'),
    logEncryptionKey: key,
    ...props,
  });
  return { stack, key, network, template: Template.fromStack(stack) };
}

describe('RegionalNetwork', () => {
  // given a region's key; when its network is built
  const { stack, key, network, template } = build();
  const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);

  test('isolated subnets in each given zone, and no NAT or internet gateway', () => {
    // then
    const subnets = Object.values(resourcesOf(template, 'AWS::EC2::Subnet')).map((s) => s.Properties as any);
    expect(subnets.map((s) => s.AvailabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    for (const subnet of subnets) expect(subnet.MapPublicIpOnLaunch).toBe(false);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Route', 0);
  });

  test('rejected traffic is logged to a log group encrypted with the key, kept a year and retained', () => {
    // then
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  test('the flow-log retention can be shortened', () => {
    // given, when
    const { template: short } = build({ flowLogRetention: logs.RetentionDays.ONE_MONTH });
    // then
    short.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('tells constructs given only the VPC which key encrypts its logs; knows no other VPC', () => {
    // then
    expect(RegionalNetwork.logEncryptionKeyOf(network.vpc)).toBe(key);
    expect(network.logEncryptionKey).toBe(key);
    expect(RegionalNetwork.logEncryptionKeyOf(isolatedVpc(new Stack(), 'Other'))).toBeUndefined();
  });

  test("acknowledges the zones it names and CDK's default-security-group handler, nothing else", () => {
    // then
    expect(acknowledgedRules(network.vpc)).toEqual(['CloudFormation-Validate::W3010']);
    const handler = stack.node
      .findChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')
      .node.findChild('Handler');
    expect(acknowledgedRules(handler)).toEqual(['cdk-validator-cfnguard::lambda_inside_vpc_check']);
    expect(network.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnets).toHaveLength(3);
  });

  test("CDK's default-security-group handler logs to a group of its own under the key, and may write only there", () => {
    // then
    const prefix = 'CustomVpcRestrictDefaultSGCustomResourceProvider';
    const [groupId, group] = only(resourcesOf(template, 'AWS::Logs::LogGroup'), prefix);
    expect(group).toEqual({ KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365 });
    const [, handler] = only(resourcesOf(template, 'AWS::Lambda::Function'), prefix);
    expect(handler.LoggingConfig).toEqual({ LogGroup: { Ref: groupId } });
    const [, role] = only(resourcesOf(template, 'AWS::IAM::Role'), prefix);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(role.Policies)).toContain(
      JSON.stringify({
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [groupId, 'Arn'] },
      }),
    );
  });
});
