import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
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
  /**
   * Customer-managed key of the cluster's exported PostgreSQL log and of the master secret's
   * rotation function's log; its key policy must let the region's CloudWatch Logs use it.
   * @default storageKey
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Retention of those logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The secret's actions the hosted PostgreSQL single-user rotation function calls. */
const ROTATION_SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

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
  /** The group the cluster's instances export their PostgreSQL log to. */
  readonly postgresqlLogGroup: logs.LogGroup;
  /** Primary only: the log group of the master secret's rotation function. */
  readonly rotationLogGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StrongStoreProps) {
    super(scope, id);
    const primary = props.role === 'primary';
    const capacity = props.capacity ?? { min: 0.5, max: 16 };
    const logEncryptionKey = props.logEncryptionKey ?? props.storageKey;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;

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
      // Exported to /aws/rds/cluster/<identifier>/postgresql, declared below.
      cloudwatchLogsExports: ['postgresql'],
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
    this.postgresqlLogGroup = this.declarePostgresqlLog(logEncryptionKey, logRetention);
    const monitoringRole = this.cluster.node.tryFindChild('MonitoringRole');
    if (monitoringRole) {
      Validations.of(monitoringRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason:
          'The AWS-maintained policy RDS documents for the enhanced monitoring role, assumed by monitoring.rds.amazonaws.com only: it allows logs:CreateLogGroup and PutRetentionPolicy on log groups named RDS*, and CreateLogStream, PutLogEvents, DescribeLogStreams and GetLogEvents on their streams, in any region (RDS writes OS metrics to RDSOSMetrics); it touches no other log group and no data, and AWS keeps it in step with RDS (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonRDSEnhancedMonitoringRole.html).',
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
      // and VPC (no Serverless Application Repository app from another region). It is named,
      // so that its log group can be declared before it: Lambda logs to /aws/lambda/<name>.
      const rotationFunctionName = `${Stack.of(this).stackName}-MasterSecretRotation`;
      if (rotationFunctionName.length > 64) {
        throw new Error(
          `${this.node.path}: the rotation function's name ${rotationFunctionName} (from the stack name) is over Lambda's 64 characters`,
        );
      }
      this.rotationLogGroup = new logs.LogGroup(this, 'RotationLogs', {
        logGroupName: `/aws/lambda/${rotationFunctionName}`,
        retention: logRetention,
        encryptionKey: logEncryptionKey,
      });
      const rotation = this.cluster.secret?.addRotationSchedule('Rotation', {
        automaticallyAfter: Duration.days(30),
        hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
          functionName: rotationFunctionName,
          vpc: props.vpc,
          vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          securityGroups: [rotationGroup],
        }),
      });
      // The schedule rotates once when it is created or changed: the group exists by then.
      rotation?.node.addDependency(this.rotationLogGroup);
      this.cluster.connections.allowDefaultPortFrom(rotationGroup, 'Secret rotation logs in to change the password');
      if (this.cluster.secret) {
        this.master = { secret: this.cluster.secret, endpoint: secretsEndpoint };
        restrictSecretsEndpoint(secretsEndpoint, this.cluster.secret);
      }
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

  /**
   * The group Aurora exports the PostgreSQL log to, `/aws/rds/cluster/<cluster identifier>/postgresql`
   * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html).
   * RDS would create it on the first export with no key and no expiry. The identifier is
   * generated (renaming the cluster would replace it), so the name is built from its `Ref`,
   * and the instances, which write the log, are created after the group.
   */
  private declarePostgresqlLog(encryptionKey: kms.IKey, retention: logs.RetentionDays): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'PostgresqlLogs', {
      logGroupName: `/aws/rds/cluster/${this.cluster.clusterIdentifier}/postgresql`,
      retention,
      encryptionKey,
    });
    for (const instance of this.cluster.node.findAll()) {
      if (instance instanceof rds.CfnDBInstance) instance.node.addDependency(logGroup);
    }
    return logGroup;
  }
}

/**
 * The Secrets Manager endpoint serves the VPC's two readers of the master secret, the schema
 * migrations (GetSecretValue) and the rotation function (the single-user rotation's calls,
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-lambda-function-overview.html):
 * its policy lets principals of this account make those calls on that one secret, and
 * GetRandomPassword, which names no secret. Nothing else passes the endpoint
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html#vpc-endpoint-policies).
 */
function restrictSecretsEndpoint(endpoint: ec2.InterfaceVpcEndpoint, secret: secretsmanager.ISecret): void {
  const account = Stack.of(endpoint).account;
  const thisAccount = { StringEquals: { 'aws:PrincipalAccount': account } };
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'MasterSecretOnly',
      principals: [new iam.AnyPrincipal()],
      actions: [...ROTATION_SECRET_ACTIONS],
      resources: [secret.secretArn],
      conditions: thisAccount,
    }),
  );
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'RandomPasswordForRotation',
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetRandomPassword'],
      resources: ['*'],
      conditions: thisAccount,
    }),
  );
}
