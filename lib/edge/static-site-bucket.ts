import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Private bucket for the shop's static assets, read only by CloudFront through origin
 * access control; server access logs go to a bucket of their own. Both are versioned, so
 * a deleted or overwritten object stays recoverable until lifecycle rules expire it.
 */
export class StaticSiteBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        // A log object is kept a year; once expired (or deleted), its version 30 days more.
        { expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
        { expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'assets/',
      lifecycleRules: [
        // Versions a release replaced stay 90 days, for rollback; failed uploads a week.
        { noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeControlTowerRules(this.accessLogsBucket, {
      s3_bucket_default_encryption_kms_check:
        'Encrypted at rest with SSE-S3 (AES256), not a KMS key: S3 server access logging supports only SSE-S3 as the default encryption of its destination bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).',
      s3_bucket_object_lock_enabled_check:
        "S3 server access logging does not deliver to a destination bucket with an Object Lock default retention period, and it sets no retention on the log objects it writes, so Object Lock would protect no log. Versioning keeps a deleted or overwritten log recoverable for 30 days; its bucket policy grants writes only to S3 log delivery for this account's assets bucket, and nothing outside the account can write (block public access, bucket-owner-enforced ownership).",
      s3_bucket_logging_enabled_check:
        "This is the server access log target: logging it into itself would log its own log deliveries, and a further bucket would only move the question. Reads of these logs are recorded nowhere (the app has no trail with S3 data events); CloudTrail's 90-day event history records only the bucket's management events.",
      s3_event_notifications_enabled_check:
        'Only S3 log delivery writes here and nothing consumes per-object events; notifications without a subscriber add no control.',
    });
    acknowledgeControlTowerRules(this.bucket, {
      s3_bucket_default_encryption_kms_check:
        "Holds only the storefront's public static files (HTML, scripts, styles, images), served to anyone through CloudFront; never personal data. SSE-S3 encrypts them at rest. A customer-managed key would add a KMS call per cache miss and a key policy tied to the distribution, and protect nothing that is not already public.",
      s3_bucket_object_lock_enabled_check:
        'Build output that every release replaces and prunes, not a record to keep immutable: versioning with a 90-day noncurrent window already allows rollback and recovery from a bad delete, a retention period would block pruning, and Object Lock can never be turned off once enabled.',
      s3_event_notifications_enabled_check:
        'Objects change only through the deployment pipeline and nothing consumes per-object events; notifications without a subscriber add no control.',
    });
  }
}

/** Control Tower checks that do not fit this bucket, each with the reason, on its `CfnBucket`. */
function acknowledgeControlTowerRules(bucket: s3.Bucket, reasons: Readonly<Record<string, string>>): void {
  for (const [rule, reason] of Object.entries(reasons)) {
    Validations.of(bucket.node.defaultChild as s3.CfnBucket).acknowledge({
      id: `cdk-validator-cfnguard::${rule}`,
      reason,
    });
  }
}
