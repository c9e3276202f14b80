import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { resolveTopology } from '../../../lib/config/topology';
import {
  EdgeAccessLogs,
  EdgeLogBuckets,
  type EdgeLogDestination,
  edgeLogDestination,
  edgeLogsRegion,
} from '../../../lib/edge/edge-access-logs';
import { EdgeWebAcl } from '../../../lib/edge/web-acl';
import { acknowledgedRules, oneStack, TEST_ACCOUNT } from '../../support/one-stack';
import { onlyOfType, resourcesOf } from '../../support/templates';

const DESTINATION: EdgeLogDestination = {
  region: 'eu-west-1',
  accessLogsBucketName: 'shop-123456789012-eu-west-1-edge-access-logs',
  wafLogsBucketName: 'aws-waf-logs-shop-123456789012-eu-west-1',
};

describe('EdgeAccessLogs', () => {
  // given the edge's stack with a distribution and a web ACL of its own
  function build(aclScope = 'CLOUDFRONT') {
    const { stack } = oneStack({ region: 'us-east-1' });
    const distribution = new cloudfront.Distribution(stack, 'Distribution', {
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    });
    const webAcl =
      aclScope === 'CLOUDFRONT'
        ? new EdgeWebAcl(stack, 'WebAcl').webAcl
        : new wafv2.CfnWebACL(stack, 'RegionalAcl', {
            scope: aclScope,
            defaultAction: { allow: {} },
            visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: 'acl' },
          });
    // when its logs are turned on
    const logs = new EdgeAccessLogs(stack, 'AccessLogs', { distribution, webAcl, destination: DESTINATION });
    return { stack, distribution, webAcl, logs, template: Template.fromStack(stack) };
  }

  test('CloudFront standard logs (v2) of the distribution are delivered to the EU access-logs bucket', () => {
    const { stack, distribution, template } = build();
    // then
    const [sourceId, source] = onlyOfType(template, 'AWS::Logs::DeliverySource');
    const [destinationId, destination] = onlyOfType(template, 'AWS::Logs::DeliveryDestination');
    const [, delivery] = onlyOfType(template, 'AWS::Logs::Delivery');
    const distributionId = stack.getLogicalId(distribution.node.defaultChild as cloudfront.CfnDistribution);
    expect(source.Properties.LogType).toBe('ACCESS_LOGS');
    expect(JSON.stringify(source.Properties.ResourceArn)).toContain(':cloudfront::');
    expect(JSON.stringify(source.Properties.ResourceArn)).toContain(`{"Ref":"${distributionId}"}`);
    expect(destination.Properties.DestinationResourceArn).toBe(`arn:aws:s3:::${DESTINATION.accessLogsBucketName}`);
    expect(delivery.Properties.DeliverySourceName).toBe(source.Properties.Name);
    expect(delivery.Properties.DeliveryDestinationArn).toEqual({ 'Fn::GetAtt': [destinationId, 'Arn'] });
    expect((delivery as { DependsOn?: string[] }).DependsOn).toContain(sourceId);
  });

  test('WAF logs of the web ACL go to the aws-waf-logs- bucket, without sign-in tokens', () => {
    const { stack, webAcl, template } = build();
    // then
    const [, logging] = onlyOfType(template, 'AWS::WAFv2::LoggingConfiguration');
    expect(logging.Properties.ResourceArn).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(webAcl), 'Arn'] });
    expect(logging.Properties.LogDestinationConfigs).toEqual([`arn:aws:s3:::${DESTINATION.wafLogsBucketName}`]);
    expect(logging.Properties.RedactedFields).toEqual([
      { SingleHeader: { Name: 'authorization' } },
      { SingleHeader: { Name: 'cookie' } },
    ]);
  });

  test('nothing else: no log group, bucket or stream of its own outside the destination', () => {
    const { template } = build();
    // then
    for (const type of ['AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::KinesisFirehose::DeliveryStream']) {
      expect([type, Object.keys(resourcesOf(template, type))]).toEqual([type, []]);
    }
  });

  test('a web ACL that is not CloudFront-scoped is refused, naming the construct and the field', () => {
    expect(() => build('REGIONAL')).toThrow('Test/AccessLogs: webAcl must have scope CLOUDFRONT, got "REGIONAL"');
  });
});

describe('EdgeLogBuckets', () => {
  // given the EU jurisdiction's primary region; when the edge's log buckets are built there
  function build(retention?: Duration) {
    const { stack } = oneStack({ region: 'eu-west-1' });
    const buckets = new EdgeLogBuckets(stack, 'EdgeLogs', {
      destination: DESTINATION,
      sourceRegion: 'us-east-1',
      retention,
    });
    return { stack, buckets, template: Template.fromStack(stack) };
  }
  const { stack, buckets, template } = build();
  const bucketResources = resourcesOf(template, 'AWS::S3::Bucket') as Record<string, any>;
  const [keyId, key] = onlyOfType(template, 'AWS::KMS::Key');

  test('two named, private, KMS-encrypted, versioned, retained buckets, owned by the account alone', () => {
    // then
    expect(
      Object.values(bucketResources)
        .map((b) => b.Properties.BucketName)
        .sort(),
    ).toEqual([DESTINATION.accessLogsBucketName, DESTINATION.wafLogsBucketName].sort());
    for (const bucket of Object.values(bucketResources)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
        },
      ]);
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
  });

  test('each log expires after 90 days by default, or the retention given', () => {
    // then
    const expirations = (t: Template) =>
      Object.values(resourcesOf(t, 'AWS::S3::Bucket') as Record<string, any>).map(
        (b) => b.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays,
      );
    expect(expirations(template)).toEqual([90, 90]);
    expect(expirations(build(Duration.days(30)).template)).toEqual([30, 30]);
  });

  test('only log delivery of this account in the edge region may write, and only over TLS', () => {
    // then
    const policies = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).map((p) => p.Properties as any);
    expect(policies).toHaveLength(2);
    const fromEdge = { StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } };
    for (const policy of policies) {
      const statements = policy.PolicyDocument.Statement as any[];
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      const write = statements.find((s) => s.Sid === 'AWSLogDeliveryWrite');
      expect(write.Principal).toEqual({ Service: 'delivery.logs.amazonaws.com' });
      expect(write.Action).toBe('s3:PutObject');
      expect(write.Condition.StringEquals).toEqual({
        ...fromEdge.StringEquals,
        's3:x-amz-acl': 'bucket-owner-full-control',
      });
      expect(JSON.stringify(write.Condition.ArnLike)).toContain(`:logs:us-east-1:${TEST_ACCOUNT}:*`);
      const aclCheck = statements.find((s) => s.Sid === 'AWSLogDeliveryAclCheck');
      expect(aclCheck.Action).toEqual(['s3:GetBucketAcl', 's3:ListBucket']);
    }
    const keyStatements = key.Properties.KeyPolicy.Statement as any[];
    const delivery = keyStatements.find((s) => s.Sid === 'AllowLogDeliveryOfEdgeDeliveries');
    expect(delivery.Principal).toEqual({ Service: 'delivery.logs.amazonaws.com' });
    expect(delivery.Condition.StringEquals).toEqual(fromEdge.StringEquals);
    expect(JSON.stringify(delivery.Condition.ArnLike)).toContain(`:logs:us-east-1:${TEST_ACCOUNT}:*`);
    expect(keyStatements.map((s) => s.Sid)).toContain('DenyGrantsNotForAwsResources');
  });

  test('the findings that do not fit a log bucket are acknowledged on each bucket', () => {
    // then
    for (const bucket of [buckets.accessLogsBucket, buckets.wafLogsBucket]) {
      expect(acknowledgedRules(bucket.node.defaultChild as never).sort()).toEqual([
        'AwsSolutions-S1',
        'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
        'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
      ]);
    }
    expect(stack.region).toBe('eu-west-1');
  });

  test('a destination in another region than its stack is refused, naming the construct', () => {
    const { stack: usStack } = oneStack({ region: 'us-east-1' });
    expect(
      () => new EdgeLogBuckets(usStack, 'EdgeLogs', { destination: DESTINATION, sourceRegion: 'us-east-1' }),
    ).toThrow('Test/EdgeLogs: destination.region is eu-west-1 but the stack is in us-east-1');
  });
});

describe('edge log destination of a topology', () => {
  test('the EU-pinned jurisdiction’s primary region, with global bucket names', () => {
    const topology = resolveTopology({}, 'test');
    const { account, appName } = topology.config;
    expect(edgeLogDestination(topology)).toEqual({
      region: 'eu-west-1',
      accessLogsBucketName: `${appName.toLowerCase()}-${account}-eu-west-1-edge-access-logs`,
      wafLogsBucketName: `aws-waf-logs-${appName.toLowerCase()}-${account}-eu-west-1`,
    });
  });

  test('with no EU-pinned jurisdiction, the edge region', () => {
    const topology = resolveTopology(
      {
        jurisdictions: [
          { name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1', 'ap-southeast-1'] },
        ],
      },
      'test',
    );
    expect(edgeLogsRegion(topology)).toBe('us-east-1');
  });
});
