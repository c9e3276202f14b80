import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Engine of every cluster of a global database; members must all run the same version. */
export const STRONG_STORE_ENGINE = rds.DatabaseClusterEngine.auroraPostgres({
  version: rds.AuroraPostgresEngineVersion.VER_17_7,
});

export interface StrongStoreProps {
  /**
   * `primary` creates the global cluster and its writer cluster; `secondary` joins an
   * existing global cluster read-only and must deploy after the primary.
   */
  readonly role: 'primary' | 'secondary';
  /** Identifier of the Aurora global cluster; a contract between the jurisdiction's regions. */
  readonly globalClusterIdentifier: string;
  readonly vpc: ec2.IVpc;
  /** Customer-managed key for storage (and, on the primary, the master secret). */
  readonly storageKey: kms.IKey;
  /**
   * Database created on the primary; secondaries replicate it.
   * @default 'commerce'
   */
  readonly databaseName?: string;
  /**
   * Serverless v2 capacity range of every instance, in ACUs.
   * @default { min: 0.5, max: 16 }
   */
  readonly capacity?: { readonly min: number; readonly max: number };
}

/**
 * The jurisdiction's strongly consistent store (inventory, orders, payments): one member
 * of an Aurora PostgreSQL global database, encrypted with a key of its own region, in
 * isolated subnets, deletion-protected and retained.
 *
 * There is no L2 for global databases (docs/design.md#cdk-choices): the primary builds a `CfnGlobalCluster`
 * and joins its `DatabaseCluster` to it; a secondary sets `GlobalClusterIdentifier` on its
 * `CfnDBCluster` and carries no credentials or database name, which it inherits.
 */
export class StrongStore extends Construct {
  readonly cluster: rds.DatabaseCluster;
  /** Primary only: the master secret and the VPC endpoint through which the VPC reads it. */
  readonly master?: { readonly secret: secretsmanager.ISecret; readonly endpoint: ec2.InterfaceVpcEndpoint };

  constructor(scope: Construct, id: string, props: StrongStoreProps) {
    super(scope, id);
    const primary = props.role === 'primary';
    const capacity = props.capacity ?? { min: 0.5, max: 16 };

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: STRONG_STORE_ENGINE,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true, autoMinorVersionUpgrade: true })],
      serverlessV2MinCapacity: capacity.min,
      serverlessV2MaxCapacity: capacity.max,
      storageEncrypted: true,
      storageEncryptionKey: props.storageKey,
      // Applications authenticate with IAM through RDS Proxy; no application password exists.
      iamAuthentication: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      backup: { retention: Duration.days(14) },
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: logs.RetentionDays.ONE_YEAR,
      // Enhanced monitoring: OS metrics of every instance each minute, through a role the
      // L2 creates for monitoring.rds.amazonaws.com.
      monitoringInterval: Duration.seconds(60),
      ...(primary
        ? {
            defaultDatabaseName: props.databaseName ?? 'commerce',
            credentials: rds.Credentials.fromGeneratedSecret('commerce_admin', { encryptionKey: props.storageKey }),
          }
        : {
            // The L2 omits credentials only for replica clusters; the identifier is
            // replaced by GlobalClusterIdentifier below, which is how a global secondary joins.
            replicationSourceIdentifier: props.globalClusterIdentifier,
          }),
    });

    const cfnCluster = this.cluster.node.defaultChild as rds.CfnDBCluster;
    acknowledgeLogRetentionFunction(this);
    const monitoringRole = this.cluster.node.tryFindChild('MonitoringRole');
    if (monitoringRole) {
      Validations.of(monitoringRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason:
          'The AWS-maintained policy RDS documents for enhanced monitoring: it lets monitoring.rds.amazonaws.com write OS metrics to the RDSOSMetrics log group and nothing else, and follows RDS changes.',
      });
    }
    if (primary) {
      // Aurora cannot manage the master password of a global database member, so the CDK
      // generates it; Secrets Manager rotates it monthly from inside the VPC.
      const secretsEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: props.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        open: false,
      });
      // The master password outlives the stack, like the cluster it unlocks.
      (this.cluster.node.findChild('Secret') as rds.DatabaseSecret).applyRemovalPolicy(RemovalPolicy.RETAIN);
      const rotationGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: props.vpc,
        description: 'Master secret rotation function',
      });
      // Hosted rotation: Secrets Manager deploys its own rotation function into this region
      // and VPC (no Serverless Application Repository app from another region).
      this.cluster.secret?.addRotationSchedule('Rotation', {
        automaticallyAfter: Duration.days(30),
        hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
          vpc: props.vpc,
          vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          securityGroups: [rotationGroup],
        }),
      });
      this.cluster.connections.allowDefaultPortFrom(rotationGroup, 'Secret rotation logs in to change the password');
      if (this.cluster.secret) this.master = { secret: this.cluster.secret, endpoint: secretsEndpoint };
      secretsEndpoint.connections.allowDefaultPortFrom(rotationGroup, 'Secret rotation calls Secrets Manager');
      const globalCluster = new rds.CfnGlobalCluster(this, 'GlobalCluster', {
        globalClusterIdentifier: props.globalClusterIdentifier,
        engine: STRONG_STORE_ENGINE.engineType,
        engineVersion: STRONG_STORE_ENGINE.engineVersion?.fullVersion,
        storageEncrypted: true,
        deletionProtection: true,
      });
      globalCluster.applyRemovalPolicy(RemovalPolicy.RETAIN);
      cfnCluster.globalClusterIdentifier = globalCluster.ref;
    } else {
      // A secondary inherits the primary's users; drop the secret the L2 generates anyway.
      this.cluster.node.tryRemoveChild('Secret');
      cfnCluster.addPropertyDeletionOverride('ReplicationSourceIdentifier');
      cfnCluster.globalClusterIdentifier = props.globalClusterIdentifier;
    }
  }
}

/**
 * `cloudwatchLogsRetention` sets the retention of the RDS log group through CDK's shared
 * LogRetention function, one per stack under a fixed id.
 */
function acknowledgeLogRetentionFunction(scope: Construct): void {
  const logRetention = Stack.of(scope).node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
  if (!logRetention) return;
  Validations.of(logRetention.node.findChild('Resource')).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
    reason:
      "CDK's own deploy-time handler that sets the retention of the RDS log group: it runs only while CloudFormation deploys, calls only the CloudWatch Logs API, and touches no data. The VPC has no NAT or Logs endpoint, so inside it the handler could not reach CloudWatch Logs.",
  });
  const role = logRetention.node.findChild('ServiceRole');
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's LogRetention function writes only its own logs; the managed policy grants exactly logs:CreateLogGroup/CreateLogStream/PutLogEvents.",
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'logs:PutRetentionPolicy/DeleteRetentionPolicy on log groups whose names RDS derives at deploy time; the CDK construct scopes it this way.',
  });
}
