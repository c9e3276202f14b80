import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct, type IConstruct } from 'constructs';
import { MIGRATION_ROLE } from '../../lambda/migrations/migrations';
import type { MigrationsEnvironment, PowertoolsEnvironment } from '../../lambda/shared/environment';
import { acknowledgeExecutionRole } from '../functions/execution-role';
import { NodeFunction } from '../functions/node-function';
import { acknowledgeTriggerProvider } from '../functions/trigger-provider';
import { grantSecretValueRead } from '../security/secret-value-read';

/** Lambda's Node.js runtimes ship the RDS certificate authorities here but load them only when asked. */
const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

export interface SchemaMigrationsProps {
  readonly vpc: ec2.IVpc;
  /** The region's member of the Aurora global database. */
  readonly cluster: rds.DatabaseCluster;
  /**
   * The primary region's master secret, and the Secrets Manager endpoint that serves it in the
   * VPC. Without it (every other region) the function signs in as the migration role with IAM.
   * @default - IAM sign-in as the migration role
   */
  readonly master?: {
    readonly secret: secretsmanager.ISecret;
    readonly endpoint: ec2.IConnectable & IConstruct;
  };
  /** Encrypts the function's logs (the region's data key). */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How long the deploy waits for the migrations.
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
}

/**
 * The strong store's schema migrations, applied by the deploy: a CDK Trigger runs the
 * migration function once the cluster exists and again whenever its code (which carries
 * the migrations) changes. It runs in every region: the region whose cluster is the writer
 * applies what is pending, the others find a replica and succeed, so after a failover the
 * next deploy migrates the promoted region with no hand step. A failing migration fails the
 * trigger with its name and the database's error, and CloudFormation rolls the stack back.
 */
export class SchemaMigrations extends Construct {
  readonly function: NodeFunction;
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(10);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Schema migration function: reaches the cluster (and the primary the Secrets Manager endpoint)',
      allowAllOutbound: false,
    });
    this.function = new NodeFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'migrations', 'handler.ts'),
      memorySize: 256,
      // Lambda's own limit; the trigger waits as long as the migrations take, up to `timeout`.
      timeout: Duration.minutes(Math.min(15, timeout.toMinutes())),
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: props.logEncryptionKey,
      }),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      environment: {
        DB_INSTANCE_ENDPOINTS: props.cluster.instanceEndpoints.map((endpoint) => endpoint.hostname).join(','),
        NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
        ...(props.master ? { DB_SECRET_ARN: props.master.secret.secretArn } : {}),
        ...({
          POWERTOOLS_SERVICE_NAME: 'schema-migrations',
          POWERTOOLS_METRICS_NAMESPACE: 'Commerce',
        } satisfies PowertoolsEnvironment),
      } satisfies MigrationsEnvironment & PowertoolsEnvironment,
    });
    props.cluster.connections.allowDefaultPortFrom(this.function, 'The schema migrations sign in to the cluster');
    if (props.master) {
      grantSecretValueRead(props.master.secret, this.function);
      props.master.endpoint.connections.allowDefaultPortFrom(this.function, 'The migrations read the master secret');
    } else {
      props.cluster.grantConnect(this.function, MIGRATION_ROLE);
    }
    this.trigger = new triggers.Trigger(this, 'Trigger', {
      handler: this.function,
      // Everything on its path: the instances, the function's role and its network rules
      // (the security groups' rules are their children), and the Secrets Manager endpoint.
      executeAfter: [props.cluster, securityGroup, this.function, ...(props.master ? [props.master.endpoint] : [])],
      executeOnHandlerChange: true,
      timeout,
    });
    acknowledgeExecutionRole(this.function);
    acknowledgeTriggerProvider(this, props.logEncryptionKey);
  }
}
