import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { Topology } from '../config/topology';
import { restrictGrantsToAwsServices } from '../security/key-policy';

/*
 * The edge's request logs and where they go.
 *
 * One CloudFront distribution and one web ACL serve every jurisdiction's shoppers, so their
 * logs hold EU shoppers' IP addresses (and US and Asia shoppers' too): wherever any
 * jurisdiction is EU-pinned, both streams go to buckets in the EU, in that jurisdiction's
 * primary region, and US and Asia shoppers' entries are kept there with them.
 *
 * - CloudFront standard logging (v2) is CloudWatch Logs vended log delivery: the delivery
 *   source, destination and delivery live where CloudFront's control plane is (us-east-1),
 *   and an S3 destination may be a bucket in another Region
 *   (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging.html).
 *   Sending to another Region is documented for S3 destinations only, so S3 it is.
 * - WAF logs of a CloudFront (global) web ACL: a log group must be in the web ACL's Region
 *   (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html) and a
 *   Firehose stream in us-east-1; an S3 bucket named `aws-waf-logs-*` may be in any Region
 *   (https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html,
 *   https://aws.github.io/aws-security-services-best-practices/guides/waf/waf-logging/docs/).
 *
 * Both are delivered by `delivery.logs.amazonaws.com` with the bucket policy and key policy
 * of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-S3.html.
 * The buckets' names are the contract between the EU stack that holds them and the edge
 * stack that points its deliveries at them (a bucket ARN names no Region).
 */

/** Where the edge's two log streams are delivered: fixed names, known to both stacks. */
export interface EdgeLogDestination {
  /** The Region of both buckets (and of their key). */
  readonly region: string;
  /** Receives CloudFront standard logs (v2). */
  readonly accessLogsBucketName: string;
  /** Receives WAF logs; WAF requires the `aws-waf-logs-` prefix. */
  readonly wafLogsBucketName: string;
}

/** The stack of the edge's log buckets (`Commerce-EdgeLogs`). */
export function edgeLogsStackName(appName: string): string {
  return `${appName}-EdgeLogs`;
}

/**
 * The Region the edge's logs are kept in: the primary Region of the first EU-pinned
 * jurisdiction, since the edge's logs hold EU shoppers' requests; with no EU-pinned
 * jurisdiction, the edge's own Region.
 */
export function edgeLogsRegion(topology: Topology): string {
  return topology.jurisdictions.find((j) => j.residency === 'eu')?.primaryRegion ?? topology.config.edgeRegion;
}

/** The two bucket names for `topology`: global names, so account and Region are in them. */
export function edgeLogDestination(topology: Topology): EdgeLogDestination {
  const { appName, account } = topology.config;
  const region = edgeLogsRegion(topology);
  const suffix = `${appName.toLowerCase()}-${account}-${region}`;
  const destination = {
    region,
    accessLogsBucketName: `${suffix}-edge-access-logs`,
    wafLogsBucketName: `aws-waf-logs-${suffix}`,
  };
  for (const field of ['accessLogsBucketName', 'wafLogsBucketName'] as const) {
    const name = destination[field];
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
      throw new Error(
        `edge log destination ${field}: "${name}" is not a valid S3 bucket name (3-63 lowercase letters, digits, hyphens); shorten appName`,
      );
    }
  }
  return destination;
}

export interface EdgeLogBucketsProps {
  readonly destination: EdgeLogDestination;
  /** The Region whose log delivery writes here: the edge's (us-east-1). */
  readonly sourceRegion: string;
  /**
   * How long a log object is kept before it expires.
   * @default Duration.days(90)
   */
  readonly retention?: Duration;
}

/**
 * The buckets the edge's logs land in, in the Region of `destination`: SSE-KMS with a key of
 * their own, no public access, TLS only, ACLs off, versioned, each log expiring after
 * `retention`; only log delivery for this account's deliveries in `sourceRegion` may write.
 */
export class EdgeLogBuckets extends Construct {
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
  readonly wafLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EdgeLogBucketsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!stack.region.startsWith('${') && stack.region !== props.destination.region) {
      throw new Error(
        `${this.node.path}: destination.region is ${props.destination.region} but the stack is in ${stack.region}`,
      );
    }
    const retention = props.retention ?? Duration.days(90);
    // Log delivery of this account's deliveries in the edge Region, nothing else.
    const fromEdgeDeliveries = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:logs:${props.sourceRegion}:${stack.account}:*` },
    };
    const logDelivery = new iam.ServicePrincipal('delivery.logs.amazonaws.com');

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the edge logs (CloudFront and WAF): EU shoppers\u2019 IP addresses',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    restrictGrantsToAwsServices(this.key);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowLogDeliveryOfEdgeDeliveries',
        principals: [logDelivery],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: fromEdgeDeliveries,
      }),
    );

    const bucket = (bucketId: string, bucketName: string): s3.Bucket => {
      const created = new s3.Bucket(this, bucketId, {
        bucketName,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        // One KMS call per bucket key rather than per log object.
        bucketKeyEnabled: true,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        lifecycleRules: [
          {
            expiration: retention,
            noncurrentVersionExpiration: Duration.days(1),
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
          { expiredObjectDeleteMarker: true },
        ],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AWSLogDeliveryWrite',
          principals: [logDelivery],
          actions: ['s3:PutObject'],
          resources: [created.arnForObjects(`AWSLogs/${stack.account}/*`)],
          conditions: {
            ...fromEdgeDeliveries,
            StringEquals: { ...fromEdgeDeliveries.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
          },
        }),
      );
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AWSLogDeliveryAclCheck',
          principals: [logDelivery],
          actions: ['s3:GetBucketAcl', 's3:ListBucket'],
          resources: [created.bucketArn],
          conditions: fromEdgeDeliveries,
        }),
      );
      acknowledge(created.node.defaultChild as s3.CfnBucket, {
        'AwsSolutions-S1':
          "No server access logs: its bucket policy grants writes to CloudWatch Logs delivery alone, and a log of the bucket would need a further bucket in this region, which S3 server access logging accepts only under SSE-S3, not this key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html). Who reads these logs (shoppers' IP addresses) is therefore recorded nowhere: the app has no trail with S3 data events, and CloudTrail's 90-day event history records only the bucket's management events.",
        'cdk-validator-cfnguard::s3_bucket_logging_enabled_check':
          "No server access logs: its bucket policy grants writes to CloudWatch Logs delivery alone, and a log of the bucket would need a further bucket in this region, which S3 server access logging accepts only under SSE-S3, not this key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html). Who reads these logs (shoppers' IP addresses) is therefore recorded nowhere: the app has no trail with S3 data events, and CloudTrail's 90-day event history records only the bucket's management events.",
        'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check':
          'Holds personal data (client IP addresses) that must expire after its retention and be erasable on request; Object Lock could never be turned off. Versioning keeps an overwritten or deleted log for a day.',
        'cdk-validator-cfnguard::s3_event_notifications_enabled_check':
          'Only log delivery writes here and nothing consumes per-object events; notifications without a subscriber add no control.',
      });
      return created;
    };
    this.accessLogsBucket = bucket('AccessLogs', props.destination.accessLogsBucketName);
    this.wafLogsBucket = bucket('WafLogs', props.destination.wafLogsBucketName);
  }
}

export interface EdgeAccessLogsProps {
  /** The distribution whose standard logs (v2) are delivered. */
  readonly distribution: cloudfront.IDistribution;
  /** The CloudFront (global) web ACL whose logs are delivered. */
  readonly webAcl: wafv2.CfnWebACL;
  /** The buckets both streams go to (`EdgeLogBuckets`, in the EU when any jurisdiction is EU-pinned). */
  readonly destination: EdgeLogDestination;
}

/**
 * Turns on the edge's request logs, in the edge stack (us-east-1): CloudFront standard
 * logging (v2) and the web ACL's logging, each to its bucket of `destination`. WAF logs
 * leave out the `authorization` and `cookie` headers: they carry sign-in tokens, which a log
 * must not keep whatever its Region. Nothing else is redacted, and nothing is sent anywhere
 * but `destination`.
 */
export class EdgeAccessLogs extends Construct {
  readonly deliverySource: logs.CfnDeliverySource;
  readonly deliveryDestination: logs.CfnDeliveryDestination;
  readonly delivery: logs.CfnDelivery;
  readonly wafLogging: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: EdgeAccessLogsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const scopeOfAcl = stack.resolve(props.webAcl.scope);
    if (scopeOfAcl !== 'CLOUDFRONT') {
      throw new Error(`${this.node.path}: webAcl must have scope CLOUDFRONT, got ${JSON.stringify(scopeOfAcl)}`);
    }
    const bucketArn = (name: string) => `arn:${stack.partition}:s3:::${name}`;
    // Names are unique per account and Region; derived from the construct path, so stable.
    const name = (suffix: string) => `${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}-${suffix}`;

    this.deliverySource = new logs.CfnDeliverySource(this, 'Source', {
      name: name('cloudfront'),
      logType: 'ACCESS_LOGS',
      resourceArn: stack.formatArn({
        service: 'cloudfront',
        region: '',
        resource: 'distribution',
        resourceName: props.distribution.distributionId,
      }),
    });
    this.deliveryDestination = new logs.CfnDeliveryDestination(this, 'Destination', {
      name: name('eu-bucket'),
      destinationResourceArn: bucketArn(props.destination.accessLogsBucketName),
    });
    this.delivery = new logs.CfnDelivery(this, 'Delivery', {
      deliverySourceName: this.deliverySource.name,
      deliveryDestinationArn: this.deliveryDestination.attrArn,
    });
    this.delivery.node.addDependency(this.deliverySource);

    this.wafLogging = new wafv2.CfnLoggingConfiguration(this, 'Waf', {
      resourceArn: props.webAcl.attrArn,
      logDestinationConfigs: [bucketArn(props.destination.wafLogsBucketName)],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
  }
}

function acknowledge(construct: Construct, reasons: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(construct).acknowledge({ id, reason });
}
