import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { confineProviderLogs } from '../functions/provider-logs';

export interface RegionalNetworkProps {
  /** Zones to spread subnets over; given explicitly so synthesis needs no lookup. */
  readonly availabilityZones: string[];
  /**
   * How long VPC flow logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * Customer-managed key of the region that encrypts the VPC's flow logs and, by default,
   * the logs of functions placed in the VPC (see `RegionalNetwork.logEncryptionKeyOf`). Its
   * key policy must let the regional CloudWatch Logs service principal use it.
   */
  readonly logEncryptionKey: kms.IKey;
}

/** Log key of each VPC a `RegionalNetwork` built, for constructs that are given only the VPC. */
const LOG_KEYS = new WeakMap<ec2.IVpc, kms.IKey>();

/**
 * The region's VPC: private isolated subnets only, no internet or NAT gateway. Nothing in
 * the platform calls the internet from inside the VPC; AWS services are reached through
 * VPC endpoints, which the stateless stack adds next to the functions that need them.
 *
 * It lives in the stateful stack because the Aurora cluster sits in its subnets: the
 * stateless stack depends on the stateful one, never the other way round.
 */
export class RegionalNetwork extends Construct {
  /** The key that encrypts the logs of `vpc` and of what runs in it, if a `RegionalNetwork` built it. */
  static logEncryptionKeyOf(vpc: ec2.IVpc): kms.IKey | undefined {
    return LOG_KEYS.get(vpc);
  }

  readonly vpc: ec2.Vpc;
  readonly logEncryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: RegionalNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      availabilityZones: props.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
    });
    this.logEncryptionKey = props.logEncryptionKey;
    LOG_KEYS.set(this.vpc, props.logEncryptionKey);
    Validations.of(this.vpc).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Zones are named in the topology config on purpose: synthesis must not look them up in an account.',
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    restrictDefaultSecurityGroupHandler(this, props.logEncryptionKey);
  }
}

/**
 * The `restrictDefaultSecurityGroup` feature flag strips the default security group's rules
 * through CDK's singleton custom-resource provider, one per stack under a fixed id: it logs
 * to a group of its own under the network's log key, and its findings are acknowledged.
 */
function restrictDefaultSecurityGroupHandler(scope: Construct, logEncryptionKey: kms.IKey): void {
  const provider = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  if (!provider || !handler) return;
  confineProviderLogs(provider, { encryptionKey: logEncryptionKey });
  Validations.of(handler).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "CDK's own deploy-time handler that removes the default security group's rules: it runs only while CloudFormation deploys, calls only the EC2 API, and touches no data. The VPC has no NAT or EC2 endpoint, so inside it the handler could not reach EC2.",
  });
}
