import * as path from 'node:path';
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import type { CanaryEnvironment } from '../../lambda/shared/environment';
import { BundledCanaryCode } from '../functions/bundled-canary-code';
import { LOG_WRITE_ACTIONS } from '../functions/execution-role';
import { grantSecretValueRead } from '../security/secret-value-read';

/** One place the canary walks, e.g. the global hostname or this region's execute-api endpoint. */
export interface ApiCanaryTarget {
  /** Named in the canary's errors and log lines, e.g. `global` or `regional`. */
  readonly label: string;
  /** Base URL without `/api`, e.g. `https://api.shop.example.com` (tokens allowed). */
  readonly baseUrl: string;
  /**
   * Name of the Secrets Manager secret in this region whose value the canary sends, in the
   * `x-origin-verify` header, as its proof of origin on this target.
   * @default the canary sends no proof of origin to this target
   */
  readonly originSecretName?: string;
}

export interface ApiCanaryProps {
  /** Walked in this order on every run; every target is walked even after one fails. */
  readonly targets: readonly ApiCanaryTarget[];
  /** The canary product: must exist in the catalog of the canary user's jurisdiction. */
  readonly sku: string;
  /** ARN of the jurisdiction's user pool (in its primary region), where the canary user signs in. */
  readonly userPoolArn: string;
  /**
   * App client the canary signs in with; the API must accept its tokens and the client
   * must allow `ALLOW_ADMIN_USER_PASSWORD_AUTH`.
   */
  readonly userPoolClientId: string;
  /**
   * Encrypts the artifacts bucket, the canary's run artifacts and its log group (the region's
   * operations key); its key policy must let the region's CloudWatch Logs use it.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Secret holding `{ "username", "password", "totpSecret" }` of the canary user: the
   * region's `CanaryIdentity` secret, which the deploy fills and Secrets Manager rotates.
   */
  readonly credentials: secretsmanager.ISecret;
  /**
   * @default synthetics.Schedule.rate(Duration.minutes(5))
   */
  readonly schedule?: synthetics.Schedule;
  /**
   * Name of the canary (lowercase, up to 21 characters, unique per account and region).
   * @default 'api-walk'
   */
  readonly canaryName?: string;
  /**
   * Deadline of each step of the walk.
   * @default Duration.seconds(10)
   */
  readonly stepTimeout?: Duration;
  /**
   * How long run artifacts and run records are kept.
   * @default Duration.days(30)
   */
  readonly artifactRetention?: Duration;
  /**
   * Whether the canary starts running when it is created.
   * @default true
   */
  readonly startAfterCreation?: boolean;
  /**
   * Retention of the log group of the canary's function.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The canary's bundle: `nodejs/node_modules/<CANARY_SCRIPT>.js`, handler `<CANARY_SCRIPT>.handler`. */
export const CANARY_SCRIPT = 'api-walk';
const CANARY_ENTRY = path.join(__dirname, '..', '..', 'lambda', 'canary', 'handler.ts');

/**
 * A CloudWatch Synthetics canary that walks the API like a shopper — health, a product
 * page, add to cart, the cart, remove from cart — through every target (the global
 * hostname and the region's own endpoint) on a schedule, signing in a dedicated canary
 * user of the jurisdiction's pool (MFA by TOTP) with credentials from Secrets Manager.
 *
 * The role is this construct's own, not the one `Canary` would make: it also reads the
 * one secret and signs in to the one user pool, and writes the log group of this canary
 * only. Artifacts go to a private bucket of its own, encrypted with the region's operations
 * key, like the log group.
 *
 * The log group: Synthetics runs the canary as a Lambda function it creates (the canary's
 * `EngineArn`), named `cwsyn-<canary name>-<canary id>`, which logs to
 * `/aws/lambda/<function name>`
 * (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_Canary.html,
 * https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_DeleteCanary.html).
 * The id is known only once the canary exists, and neither Synthetics nor CloudFormation
 * has a setting for the group, so the template declares it with the canary's `Id` attribute
 * in its name: CloudFormation creates it right after the canary, with its key and retention.
 * The role may not create log groups, so no group without a key or expiry can appear; a run
 * that Synthetics starts in the seconds between the canary's creation and the group's (the
 * schedule's first tick falling there) loses its log lines, its artifacts and metrics kept.
 */
export class ApiCanary extends Construct {
  readonly canary: synthetics.Canary;
  readonly role: iam.Role;
  readonly artifactsBucket: s3.Bucket;
  readonly credentials: secretsmanager.ISecret;
  /** The log group of the function Synthetics runs the canary as. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiCanaryProps) {
    super(scope, id);
    if (props.targets.length === 0) throw new Error('ApiCanary needs at least one target');
    const stack = Stack.of(this);
    const canaryName = props.canaryName ?? 'api-walk';
    const retention = props.artifactRetention ?? Duration.days(30);
    const pool = Arn.split(props.userPoolArn, ArnFormat.SLASH_RESOURCE_NAME);

    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeArtifactsBucket(this.artifactsBucket);

    this.credentials = props.credentials;

    // Lambda (the canary runs as a function named `cwsyn-<canary name>-<uuid>`) assumes it.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Synthetics canary ${canaryName}: writes its artifacts, metrics and logs, signs in the canary user`,
    });
    const statements = [
      // What Synthetics itself needs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html).
      new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [this.artifactsBucket.bucketArn] }),
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.artifactsBucket.arnForObjects('*')] }),
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } },
      }),
      // The canary user's sign-in, in this one pool only.
      new iam.PolicyStatement({
        actions: ['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminRespondToAuthChallenge'],
        resources: [props.userPoolArn],
      }),
    ];
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    grantSecretValueRead(this.credentials, this.role);

    const stepTimeoutMs = (props.stepTimeout ?? Duration.seconds(10)).toMilliseconds();
    const code = new BundledCanaryCode({ entry: CANARY_ENTRY, scriptName: CANARY_SCRIPT });
    this.canary = new synthetics.Canary(this, 'Canary', {
      canaryName,
      runtime: synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0,
      test: synthetics.Test.custom({ code, handler: code.handler }),
      schedule: props.schedule ?? synthetics.Schedule.rate(Duration.minutes(5)),
      startAfterCreation: props.startAfterCreation ?? true,
      role: this.role,
      artifactsBucketLocation: { bucket: this.artifactsBucket },
      artifactS3EncryptionMode: synthetics.ArtifactsEncryptionMode.KMS,
      artifactS3KmsKey: props.encryptionKey,
      successRetentionPeriod: retention,
      failureRetentionPeriod: retention,
      provisionedResourceCleanup: true,
      environmentVariables: {
        CANARY_TARGETS: stack.toJsonString(
          props.targets.map(({ label, baseUrl, originSecretName }) => ({
            label,
            baseUrl,
            ...(originSecretName === undefined ? {} : { originSecretName }),
          })),
        ),
        CANARY_SKU: props.sku,
        CANARY_SECRET_ARN: this.credentials.secretArn,
        USER_POOL_ID: pool.resourceName as string,
        USER_POOL_CLIENT_ID: props.userPoolClientId,
        USER_POOL_REGION: pool.region as string,
        CANARY_STEP_TIMEOUT_MS: String(stepTimeoutMs),
      } satisfies CanaryEnvironment,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/cwsyn-${canaryName}-${this.canary.canaryId}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
    });
    // A policy of its own: it names the group, which comes after the canary, and the
    // canary's other grants must not wait for that.
    new iam.Policy(this, 'LogsPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: [...LOG_WRITE_ACTIONS], resources: [this.logGroup.logGroupArn] }),
      ],
    });
    acknowledgeRole(this.role, { artifacts: nagResource(stack, this.artifactsBucket.arnForObjects('*')) });
  }

  /** Percentage of successful runs (alarm when it drops below 100 over a few periods). */
  metricSuccessPercent(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canary.metricSuccessPercent(options);
  }

  /** Number of failed runs. */
  metricFailed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canary.metricFailed(options);
  }
}

/**
 * The artifacts bucket holds the canary's own run records (logs and reports of one
 * synthetic user, no customer data), written by the canary role alone and expired after
 * the retention period; the controls below are for buckets whose content matters.
 */
function acknowledgeArtifactsBucket(bucket: s3.Bucket): void {
  const why = 'Canary run artifacts only (one synthetic user, no customer data), expired after the retention period';
  // S3 data events are not recorded by any trail of this app, so no claim of an object-level
  // audit trail is made here: what the bucket receives is accounted for by Synthetics instead.
  const accessLogs =
    "the app grants writes to the canary role alone, and each write is one run's record, which Synthetics lists (GetCanaryRuns) and the canary's log group describes; server access logs would record the same uploads of one synthetic user, in a further bucket per region.";
  for (const [id, reason] of [
    ['AwsSolutions-S1', `${why}; ${accessLogs}`],
    ['cdk-validator-cfnguard::s3_bucket_logging_enabled_check', `${why}; ${accessLogs}`],
    ['cdk-validator-cfnguard::s3_bucket_versioning_enabled_check', `${why}; an overwritten run record has no value.`],
    ['cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check', `${why}; nothing here must be retained.`],
    ['cdk-validator-cfnguard::s3_event_notifications_enabled_check', `${why}; nothing reacts to new runs.`],
  ] as const) {
    Validations.of(bucket).acknowledge({ id, reason });
  }
}

/** The findings the canary role has by design, each narrowed to its resource or action. */
function acknowledgeRole(role: iam.Role, resources: { readonly artifacts: string }): void {
  const acknowledge = (id: string, reason: string) => Validations.of(role).acknowledge({ id, reason });
  acknowledge(
    'AwsSolutions-IAM5[Resource::*]',
    'Synthetics needs s3:ListAllMyBuckets, and cloudwatch:PutMetricData (held to the CloudWatchSynthetics namespace by a condition); neither action supports resource-level scoping.',
  );
  acknowledge(
    `AwsSolutions-IAM5[Resource::${resources.artifacts}]`,
    "Synthetics writes each run under keys it generates, in this canary's own artifacts bucket.",
  );
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    acknowledge(
      `AwsSolutions-IAM5[Action::${action}]`,
      `${action} (with kms:Encrypt and kms:Decrypt) is granted by CDK's Canary construct (grantEncryptDecrypt of artifactS3KmsKey) on one key only, the region's operations key, with no kms:ViaService condition. S3 needs kms:GenerateDataKey (and kms:Decrypt) for the role to write each SSE-KMS artifact; the construct grants the whole families to the role it is given (this stack's own) whenever artifactS3KmsKey is set, and takes no narrower grant. The key also encrypts this stack's other operational log groups, among them the writer API's access logs (shoppers' IP addresses); the role may read none of them.`,
    );
  }
}

/**
 * A policy resource as cdk-nag names it in a finding (`Resource::<name>`): the resolved
 * value with `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attr>` and `Fn::Join` concatenated.
 */
function nagResource(stack: Stack, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const record = node as Record<string, unknown>;
    if (typeof record?.Ref === 'string') return `<${record.Ref}>`;
    const getAtt = record?.['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = record?.['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join;
      if (typeof separator === 'string' && Array.isArray(parts)) return parts.map(flatten).join(separator);
    }
    return JSON.stringify(node);
  };
  return flatten(stack.resolve(value));
}
