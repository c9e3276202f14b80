import { Template } from 'aws-cdk-lib/assertions';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { StaticSiteBucket } from '../../../lib/edge/static-site-bucket';
import { acknowledgedRules, oneStack } from '../../support/one-stack';
import { resourceById, resourcesOf } from '../../support/templates';

describe('StaticSiteBucket', () => {
  // given the edge's stack; when the site's buckets are built
  const { stack } = oneStack({ region: 'us-east-1' });
  const site = new StaticSiteBucket(stack, 'Site');
  const template = Template.fromStack(stack);
  const buckets = resourcesOf(template, 'AWS::S3::Bucket');
  const idOf = (bucket: s3.Bucket) => stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const assets = resourceById(buckets, idOf(site.bucket));
  const accessLogs = resourceById(buckets, idOf(site.accessLogsBucket));

  test('two private, encrypted, versioned, retained buckets, owned by the account alone', () => {
    // then
    expect(Object.keys(buckets)).toHaveLength(2);
    for (const bucket of [assets, accessLogs]) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
  });

  test('both refuse requests without TLS', () => {
    // then
    const policies = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).map((p) => p.Properties as any);
    expect(policies.map((p) => p.Bucket.Ref).sort()).toEqual([idOf(site.accessLogsBucket), idOf(site.bucket)].sort());
    for (const policy of policies) {
      expect(policy.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  test('asset access is logged to the logs bucket; old versions and logs expire, failed uploads are cleaned up', () => {
    // then
    expect(assets.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: idOf(site.accessLogsBucket) },
      LogFilePrefix: 'assets/',
    });
    expect(assets.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        NoncurrentVersionExpiration: { NoncurrentDays: 90 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        Status: 'Enabled',
      }),
      expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
    ]);
    expect(accessLogs.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        ExpirationInDays: 365,
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        Status: 'Enabled',
      }),
      expect.objectContaining({ ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
    ]);
  });

  test('the Control Tower checks that do not fit are acknowledged on each bucket, with a reason', () => {
    // then
    expect(acknowledgedRules(site.accessLogsBucket.node.defaultChild as s3.CfnBucket).sort()).toEqual([
      'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
      'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
      'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
      'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
    ]);
    expect(acknowledgedRules(site.bucket.node.defaultChild as s3.CfnBucket).sort()).toEqual([
      'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
      'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
      'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
    ]);
  });
});
