import { App, PhysicalName, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DataResidencyChecks, type ResidencyScope, regionsIn } from '../../../lib/compliance/data-residency-checks';
import { EdgeAccessLogs, EdgeLogBuckets } from '../../../lib/edge/edge-access-logs';
import { EdgeWebAcl } from '../../../lib/edge/web-acl';
import { createApp, stackIn, synthesisError } from '../../support/platform';

const SCOPE: ResidencyScope = {
  euPinnedRegions: ['eu-west-1', 'eu-central-1'],
  euTableNames: ['Shop-eu-eventual'],
  euGlobalClusters: ['shop-eu-strong'],
};

/** One stack in `region` holding what `build` adds, checked by the pack alone. */
function findings(region: string, build: (stack: Stack) => void): string[][] {
  const app = new App();
  const stack = new Stack(app, 'Probe', { env: { account: '123456789012', region } });
  build(stack);
  const report = new DataResidencyChecks(SCOPE, app).validateScope(app);
  return report.violations.map((v) => [
    v.ruleName,
    ...v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath as string),
  ]);
}

const table = (replicaRegion: string) => (stack: Stack) =>
  new dynamodb.TableV2(stack, 'Table', {
    tableName: 'Shop-eu-eventual',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    replicas: [{ region: replicaRegion }],
  });

const member = (stack: Stack) =>
  new rds.CfnDBCluster(stack, 'Member', { engine: 'aurora-postgresql', globalClusterIdentifier: 'shop-eu-strong' });

const subscription = (destinationRegion: string) => (stack: Stack) => {
  const group = new logs.CfnLogGroup(stack, 'Logs', {});
  new logs.CfnSubscriptionFilter(stack, 'Subscription', {
    logGroupName: group.ref,
    filterPattern: '',
    destinationArn: `arn:aws:lambda:${destinationRegion}:123456789012:function:collector`,
  });
};

const bucket = (keyRegion: string) => (stack: Stack) =>
  new s3.CfnBucket(stack, 'Bucket', {
    bucketEncryption: {
      serverSideEncryptionConfiguration: [
        {
          serverSideEncryptionByDefault: {
            sseAlgorithm: 'aws:kms',
            kmsMasterKeyId: `arn:aws:kms:${keyRegion}:123456789012:key/11111111-2222-3333-4444-555555555555`,
          },
        },
      ],
    },
  });

const policy = (tableRegion: string) => (stack: Stack) =>
  new iam.CfnPolicy(stack, 'Policy', {
    policyName: 'reader',
    roles: ['reader'],
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: `arn:aws:dynamodb:${tableRegion}:123456789012:table/Shop-eu-eventual`,
        },
      ],
    },
  });

const distribution = (logBucket?: string) => (stack: Stack) =>
  new cloudfront.CfnDistribution(stack, 'Cdn', {
    distributionConfig: {
      enabled: true,
      defaultCacheBehavior: { targetOriginId: 'o', viewerProtocolPolicy: 'https-only' },
      origins: [
        { id: 'o', domainName: 'origin.example.com', customOriginConfig: { originProtocolPolicy: 'https-only' } },
      ],
      ...(logBucket ? { logging: { bucket: logBucket } } : {}),
    },
  });

// Each rule fires on what it guards against and stays quiet on the same thing kept in the EU.
test.each<{ rule: string; what: string; region: string; build: (stack: Stack) => void; found: string[][] }>([
  {
    rule: 'ReplicatesOutsideEU',
    what: 'fires on an EU global table with a replica in the US',
    region: 'eu-west-1',
    build: table('us-east-1'),
    found: [['DataResidency-ReplicatesOutsideEU', 'Probe/Table/Resource']],
  },
  {
    rule: 'ReplicatesOutsideEU',
    what: 'stays quiet on replicas inside the EU',
    region: 'eu-west-1',
    build: table('eu-central-1'),
    found: [],
  },
  {
    rule: 'ReplicatesOutsideEU',
    what: 'fires on a cluster outside the EU joining an EU global cluster',
    region: 'us-east-1',
    build: member,
    found: [['DataResidency-ReplicatesOutsideEU', 'Probe/Member']],
  },
  {
    rule: 'ReplicatesOutsideEU',
    what: 'stays quiet on a cluster inside the EU joining it',
    region: 'eu-central-1',
    build: member,
    found: [],
  },
  {
    rule: 'SendsOutsideEU',
    what: 'fires on an EU log subscription delivering to the US',
    region: 'eu-west-1',
    build: subscription('us-east-1'),
    found: [['DataResidency-SendsOutsideEU', 'Probe/Subscription']],
  },
  {
    rule: 'SendsOutsideEU',
    what: 'stays quiet on a destination inside the EU',
    region: 'eu-west-1',
    build: subscription('eu-central-1'),
    found: [],
  },
  {
    rule: 'KeyOutsideEU',
    what: 'fires on EU data encrypted with a key in the US',
    region: 'eu-west-1',
    build: bucket('us-east-1'),
    found: [['DataResidency-KeyOutsideEU', 'Probe/Bucket']],
  },
  {
    rule: 'KeyOutsideEU',
    what: 'stays quiet on a key inside the EU',
    region: 'eu-west-1',
    build: bucket('eu-west-1'),
    found: [],
  },
  {
    rule: 'GrantOutsideEU',
    what: 'fires on a US policy granting access to an EU region',
    region: 'us-east-1',
    build: policy('eu-west-1'),
    found: [['DataResidency-GrantOutsideEU', 'Probe/Policy']],
  },
  {
    rule: 'GrantOutsideEU',
    what: 'stays quiet on a US policy for US resources',
    region: 'us-east-1',
    build: policy('us-east-1'),
    found: [],
  },
  {
    rule: 'CloudFrontLogsOutsideEU',
    what: 'fires on access logs delivered to a US bucket',
    region: 'us-east-1',
    build: distribution('logs.s3.us-east-1.amazonaws.com'),
    found: [['DataResidency-CloudFrontLogsOutsideEU', 'Probe/Cdn']],
  },
  {
    rule: 'CloudFrontLogsOutsideEU',
    what: 'stays quiet on logs in an EU bucket',
    region: 'us-east-1',
    build: distribution('logs.s3.eu-west-1.amazonaws.com'),
    found: [],
  },
  {
    rule: 'CloudFrontLogsOutsideEU',
    what: 'stays quiet on logs that are off',
    region: 'us-east-1',
    build: distribution(),
    found: [],
  },
])('DataResidency-$rule $what', ({ region, build, found }) => {
  expect(findings(region, build)).toEqual(found);
});

describe('regions a value points at', () => {
  test('reads ARNs, S3 hosts, cross-region outputs and in-stack references', () => {
    expect([...regionsIn('arn:aws:sqs:eu-west-1:1:q', 'x')]).toEqual(['eu-west-1']);
    expect([
      ...regionsIn({ 'Fn::GetStackOutput': { StackName: 's', Region: 'us-east-1', OutputName: 'o' } }, 'x'),
    ]).toEqual(['us-east-1']);
    expect([...regionsIn({ 'Fn::GetAtt': ['Key', 'Arn'] }, 'eu-central-1')]).toEqual(['eu-central-1']);
    expect([
      ...regionsIn({ 'Fn::Join': ['', ['arn:aws:kms:', { Ref: 'AWS::Region' }, ':1:key/k']] }, 'eu-west-1'),
    ]).toEqual(['eu-west-1']);
  });
});

describe('in this app', () => {
  test('synthesis fails on a residency finding added to an EU stack, naming rule and construct', () => {
    const { app, platform } = createApp();
    const stack = stackIn(platform.stateless, 'eu-central-1');
    const group = new logs.CfnLogGroup(stack, 'ExportedLogs', {});
    new logs.CfnSubscriptionFilter(stack, 'ExportToUs', {
      logGroupName: group.ref,
      filterPattern: '',
      destinationArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/central-logs',
    });
    const message = synthesisError(app);
    expect(message).toContain('Commerce-eu-central-1-Stateless/ExportToUs');
    expect(message).toContain('DataResidency-SendsOutsideEU');
  });
});

describe('destinations and grants whose ARNs carry no region', () => {
  test('an EU key granted to a role of a US stack fires on the key; to an EU role it does not', () => {
    for (const [roleRegion, expected] of [
      ['us-east-1', [['DataResidency-GrantOutsideEU', 'Keys/Key/Resource']]],
      ['eu-central-1', []],
    ] as const) {
      const app = new App();
      const keys = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
      const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '123456789012', region: roleRegion } });
      const key = new kms.Key(keys, 'Key');
      const reader = new iam.Role(elsewhere, 'Reader', {
        assumedBy: new iam.AccountRootPrincipal(),
        roleName: PhysicalName.GENERATE_IF_NEEDED,
      });
      key.grantDecrypt(reader);
      app.synth();
      const report = new DataResidencyChecks(SCOPE, app).validateScope(app);
      expect(
        report.violations
          .filter((v) => v.ruleName === 'DataResidency-GrantOutsideEU')
          .map((v) => [
            v.ruleName,
            ...v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath),
          ]),
      ).toEqual(expected);
    }
  });

  test('S3 replication to a bucket whose region cannot be told fires; a named EU bucket does not', () => {
    const replicated = (destination: string) => (stack: Stack) => {
      new s3.CfnBucket(stack, 'Target', { bucketName: 'eu-target-bucket' });
      new s3.CfnBucket(stack, 'Source', {
        versioningConfiguration: { status: 'Enabled' },
        replicationConfiguration: {
          role: 'arn:aws:iam::123456789012:role/replication',
          rules: [{ status: 'Enabled', destination: { bucket: destination } }],
        },
      });
    };
    expect(findings('eu-west-1', replicated('arn:aws:s3:::somewhere-unknown'))).toEqual([
      ['DataResidency-ReplicatesOutsideEU', 'Probe/Source'],
    ]);
    expect(findings('eu-west-1', replicated('arn:aws:s3:::eu-target-bucket'))).toEqual([]);
  });

  test('secret replicas outside the EU fire; inside do not', () => {
    const secret = (region: string) => (stack: Stack) =>
      new secretsmanager.CfnSecret(stack, 'Secret', { replicaRegions: [{ region }] });
    expect(findings('eu-west-1', secret('us-east-1'))).toEqual([['DataResidency-ReplicatesOutsideEU', 'Probe/Secret']]);
    expect(findings('eu-west-1', secret('eu-central-1'))).toEqual([]);
  });

  test('a destination with no region at all (an HTTP endpoint) counts as outside the EU', () => {
    expect(
      findings('eu-west-1', (stack) => {
        new sns.CfnSubscription(stack, 'Webhook', {
          topicArn: 'arn:aws:sns:eu-west-1:123456789012:orders',
          protocol: 'https',
          endpoint: 'https://hooks.example.com/orders',
        });
      }),
    ).toEqual([['DataResidency-SendsOutsideEU', 'Probe/Webhook']]);
  });
});

describe('DataResidency-LogsOutsideEU', () => {
  const ACCOUNT = '123456789012';
  const report = (app: App, scope: ResidencyScope = SCOPE) =>
    new DataResidencyChecks(scope, app)
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${(r as { constructPath?: string }).constructPath}`),
      );

  /** The edge (us-east-1) with its logs on, delivered to buckets in `bucketRegion`. */
  function edgeWithLogsIn(bucketRegion: string, options: { bucketsBuilt?: boolean } = {}): App {
    const app = new App();
    const destination = {
      region: bucketRegion,
      accessLogsBucketName: `shop-${ACCOUNT}-${bucketRegion}-edge-access-logs`,
      wafLogsBucketName: `aws-waf-logs-shop-${ACCOUNT}-${bucketRegion}`,
    };
    if (options.bucketsBuilt ?? true) {
      const logs = new Stack(app, 'EdgeLogs', { env: { account: ACCOUNT, region: bucketRegion } });
      new EdgeLogBuckets(logs, 'EdgeLogs', { destination, sourceRegion: 'us-east-1' });
    }
    const edge = new Stack(app, 'Edge', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const distribution = new cloudfront.Distribution(edge, 'Distribution', {
      defaultBehavior: { origin: new origins.HttpOrigin('origin.example.com') },
    });
    const webAcl = new EdgeWebAcl(edge, 'WebAcl').webAcl;
    new EdgeAccessLogs(edge, 'AccessLogs', { distribution, webAcl, destination });
    return app;
  }

  test('fires on CloudFront and WAF logs delivered to a US bucket while a jurisdiction is EU-pinned', () => {
    expect(report(edgeWithLogsIn('us-east-1')).filter((f) => f.includes('LogsOutsideEU'))).toEqual([
      'DataResidency-LogsOutsideEU Edge/AccessLogs/Delivery',
      'DataResidency-LogsOutsideEU Edge/AccessLogs/Waf',
    ]);
  });

  test('stays quiet when both buckets are in the EU, and finds nothing else there', () => {
    expect(report(edgeWithLogsIn('eu-west-1'))).toEqual([]);
  });

  test('fires when the buckets are named nowhere in the app: their region cannot be told', () => {
    expect(report(edgeWithLogsIn('eu-west-1', { bucketsBuilt: false }))).toEqual([
      'DataResidency-LogsOutsideEU Edge/AccessLogs/Delivery',
      'DataResidency-LogsOutsideEU Edge/AccessLogs/Waf',
    ]);
  });

  test('stays quiet on edge logs in the US when no jurisdiction is EU-pinned', () => {
    const noEu: ResidencyScope = { euPinnedRegions: [], euTableNames: [], euGlobalClusters: [] };
    expect(report(edgeWithLogsIn('us-east-1'), noEu)).toEqual([]);
  });

  test('fires on an EU API whose access logs go to a US log group; its own log group is quiet', () => {
    for (const [destination, expected] of [
      ['arn:aws:logs:us-east-1:123456789012:log-group:central-access-logs', ['Probe/Stage']],
      ['in-stack', []],
    ] as const) {
      const found = findings('eu-west-1', (stack) => {
        const api = new apigwv2.CfnApi(stack, 'Api', { name: 'api', protocolType: 'HTTP' });
        const group = new logs.CfnLogGroup(stack, 'AccessLogs', {});
        new apigwv2.CfnStage(stack, 'Stage', {
          apiId: api.ref,
          stageName: '$default',
          accessLogSettings: {
            destinationArn: destination === 'in-stack' ? group.attrArn : destination,
            format: '$context.requestId $context.identity.sourceIp',
          },
        });
      });
      expect(found.filter(([rule]) => rule === 'DataResidency-LogsOutsideEU').map(([, at]) => at)).toEqual(expected);
    }
  });
});

describe('alarm e-mail subscriptions of an EU stack', () => {
  /** An EU topic that alarms publish to, mailed to an address; `alsoPublishes` grants one more publisher. */
  const alarmTopic =
    (alsoPublishes = false) =>
    (stack: Stack) => {
      const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
      new sns.Subscription(stack, 'OnCall', {
        topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: 'oncall@example.com',
      });
      const alarm = new cloudwatch.Alarm(stack, 'Errors', {
        metric: new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors' }),
        threshold: 1,
        evaluationPeriods: 1,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(topic));
      if (alsoPublishes) {
        topic.grantPublish(new iam.Role(stack, 'OrdersRole', { assumedBy: new iam.AccountRootPrincipal() }));
      }
    };

  test('alarm notifications hold no customer data: a mailbox anywhere is not a destination of EU data', () => {
    expect(findings('eu-west-1', alarmTopic())).toEqual([]);
  });

  test('once anything but alarms may publish to the topic, the mailbox counts as outside the EU', () => {
    expect(findings('eu-west-1', alarmTopic(true))).toEqual([
      ['DataResidency-SendsOutsideEU', 'Probe/OnCall/Resource'],
    ]);
  });

  test('a role that may publish to any topic, not naming this one, makes the mailbox count as outside the EU too', () => {
    const withWildcardPublisher = (stack: Stack) => {
      alarmTopic()(stack);
      new iam.Role(stack, 'Broadcaster', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }),
      );
    };
    expect(findings('eu-west-1', withWildcardPublisher)).toEqual([
      ['DataResidency-SendsOutsideEU', 'Probe/OnCall/Resource'],
    ]);
  });
});
