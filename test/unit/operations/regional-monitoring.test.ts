import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { resolveTopology } from '../../../lib/config/topology';
import { REGIONAL_ALARMS, RegionalMonitoring } from '../../../lib/operations/regional-monitoring';
import { acknowledgedRules, oneStack } from '../../support/one-stack';
import { expectOnCallSubscription, ON_CALL, ON_CALL_OPERATIONS } from '../../support/operations';
import { metricsOf, only, resourcesOf } from '../../support/templates';

const FUNCTIONS = ['health', 'products', 'likes', 'profile', 'cart', 'orders', 'authorizer'];

/**
 * The region's monitoring in a stack of its own: the API, functions, cache and proxy it
 * watches are given by name or id, as they would be by the stateless stack.
 */
function build(region: string, overrides: Record<string, unknown> = {}, replicaRegions = ['eu-central-1']) {
  const { stack } = oneStack({ region });
  const { operations } = resolveTopology(overrides, 'test');
  const key = new kms.Key(stack, 'OperationsKey');
  const monitoring = new RegionalMonitoring(stack, 'Monitoring', {
    appName: 'Commerce',
    encryptionKey: key,
    jurisdiction: 'eu',
    thresholds: operations.alarmThresholds,
    alarmEmails: operations.alarmEmails,
    httpApi: apigwv2.HttpApi.fromHttpApiAttributes(stack, 'HttpApi', { httpApiId: 'api123' }),
    functions: Object.fromEntries(
      FUNCTIONS.map((name) => [
        name,
        lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:${region}:123456789012:function:${name}`),
      ]),
    ),
    eventualTableName: 'Commerce-eu-eventual',
    replicaRegions,
    strongStoreClusterIdentifier: 'commerce-eu-cluster',
    cacheName: 'commerce-cache',
    databaseProxyName: 'commerce-proxy',
  });
  const canaryMetric = (name: string) =>
    new cloudwatch.Metric({
      namespace: 'CloudWatchSynthetics',
      metricName: 'SuccessPercent',
      dimensionsMap: { CanaryName: name },
    });
  monitoring.addCanaryAlarm('CanaryGlobal', canaryMetric('walk-global'));
  monitoring.addCanaryAlarm('CanaryRegional', canaryMetric('walk-regional'));
  const template = Template.fromStack(stack);
  const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
  return { monitoring, template, keyId, alarms: resourcesOf(template, 'AWS::CloudWatch::Alarm') };
}

describe('RegionalMonitoring', () => {
  // given thresholds and an on-call address from the config, one replica region, two canaries
  // when the monitoring of eu-west-1 is built
  const { monitoring, template, keyId, alarms } = build('eu-west-1', ON_CALL_OPERATIONS);
  const alarm = (name: string) => only(alarms, `Monitoring${name}`)[1];
  const metricNames = (name: string) =>
    metricsOf(alarm(name))
      .map((m) => m.name)
      .sort();

  test('every regional alarm exists once, notifies the encrypted topic, with the evaluation periods of the config', () => {
    // then
    const [topicId, topic] = only(resourcesOf(template, 'AWS::SNS::Topic'), 'MonitoringAlarmTopic');
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const expected = [...REGIONAL_ALARMS, 'ReplicationLatencyToeucentral1', 'CanaryGlobal', 'CanaryRegional'];
    expect(Object.keys(alarms)).toHaveLength(expected.length);
    for (const name of expected) {
      const props = alarm(name);
      expect(props.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(props.OKActions).toEqual([{ Ref: topicId }]);
      expect(props.EvaluationPeriods).toBe(4);
      expect(props.ComparisonOperator).toBe(
        name.startsWith('Canary') ? 'LessThanThreshold' : 'GreaterThanOrEqualToThreshold',
      );
      expect(props.TreatMissingData).toBe(name.startsWith('Canary') ? 'breaching' : 'notBreaching');
    }
    expect([...monitoring.alarms.keys()]).toEqual([
      ...REGIONAL_ALARMS.slice(0, 4),
      'ReplicationLatencyTo-eu-central-1',
      ...REGIONAL_ALARMS.slice(4),
      'CanaryGlobal',
      'CanaryRegional',
    ]);
  });

  test('the on-call address is subscribed by e-mail, with no residency acknowledgement: alarms carry no customer data', () => {
    // then
    const [topicId] = only(resourcesOf(template, 'AWS::SNS::Topic'), 'MonitoringAlarmTopic');
    expectOnCallSubscription(template, topicId);
    const subscription = monitoring.topic.node.findChild(ON_CALL).node.defaultChild;
    expect(acknowledgedRules(subscription as never)).toEqual([]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  test('no address, no subscription', () => {
    // given the default config, when built, then
    build('eu-west-1').template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('alarms read the right metrics at the right thresholds', () => {
    // then
    expect(alarm('Api5xxRate').Threshold).toBe(2);
    expect(metricNames('Api5xxRate')).toEqual(['5xx', 'Count']);
    expect(alarm('ApiP99Latency').Threshold).toBe(2000);
    expect(metricsOf(alarm('ApiP99Latency'))).toEqual([expect.objectContaining({ name: 'Latency', stat: 'p99' })]);
    expect(metricsOf(alarm('FunctionErrors'))).toHaveLength(7);
    expect(new Set(metricsOf(alarm('FunctionErrors')).map((m) => m.name))).toEqual(new Set(['Errors']));
    expect(new Set(metricsOf(alarm('FunctionThrottles')).map((m) => m.name))).toEqual(new Set(['Throttles']));
    const replication = alarm('ReplicationLatencyToeucentral1');
    expect(replication.Threshold).toBe(30000);
    expect(metricsOf(replication)).toEqual([
      {
        namespace: 'AWS/DynamoDB',
        name: 'ReplicationLatency',
        dims: { ReceivingRegion: 'eu-central-1', TableName: 'Commerce-eu-eventual' },
        stat: 'Average',
      },
    ]);
    const aurora = alarm('AuroraReplicationLag');
    expect(aurora).toMatchObject({ Threshold: 10000, TreatMissingData: 'notBreaching' });
    expect(metricsOf(aurora)).toEqual([
      {
        namespace: 'AWS/RDS',
        name: 'AuroraGlobalDBReplicationLag',
        dims: { DBClusterIdentifier: 'commerce-eu-cluster' },
        stat: 'Maximum',
      },
    ]);
    expect(metricsOf(alarm('CacheThrottling'))).toEqual([
      expect.objectContaining({
        namespace: 'AWS/ElastiCache',
        name: 'ThrottledCmds',
        dims: { clusterId: 'commerce-cache' },
      }),
    ]);
    expect(metricNames('ProxyConnections')).toEqual(['DatabaseConnections', 'MaxDatabaseConnectionsAllowed']);
    expect(alarm('ProxyConnections').Threshold).toBe(80);
  });

  test("canary alarms fire below the config's success percent, and when the canary stops reporting", () => {
    // then
    const canaryAlarm = alarm('CanaryGlobal');
    expect(canaryAlarm).toMatchObject({ Threshold: 90, TreatMissingData: 'breaching' });
    expect(metricsOf(canaryAlarm)).toEqual([
      expect.objectContaining({
        namespace: 'CloudWatchSynthetics',
        name: 'SuccessPercent',
        dims: { CanaryName: 'walk-global' },
      }),
    ]);
  });

  test('one replication alarm per receiving region, none for a region alone in its jurisdiction', () => {
    // given, when
    const two = build('eu-west-1', {}, ['eu-central-1', 'eu-north-1']);
    const alone = build('eu-west-1', {}, []);
    // then
    const replicationAlarms = (alarmsOf: typeof alarms) =>
      Object.keys(alarmsOf)
        .filter((id) => id.startsWith('MonitoringReplicationLatency'))
        .map((id) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(replicationAlarms(two.alarms).sort()).toEqual([
      'MonitoringReplicationLatencyToeucentral1',
      'MonitoringReplicationLatencyToeunorth1',
    ]);
    expect(replicationAlarms(alone.alarms)).toEqual([]);
  });

  test('alarmNamed finds each alarm by its name, and names the ones it has when asked for another', () => {
    // then
    expect(monitoring.alarmNamed('CanaryGlobal')).toBe(monitoring.alarms.get('CanaryGlobal'));
    expect(() => monitoring.alarmNamed('ReplicationLatencyTo-us-east-1')).toThrow(
      /^Test\/Monitoring: no alarm ReplicationLatencyTo-us-east-1; it has Api5xxRate, /,
    );
  });

  test.each(['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'])(
    'a dashboard named after the region (%s) shows the alarms and signals',
    (region) => {
      // given, when
      const { template: regional } = build(region);
      // then
      const [, dashboard] = only(resourcesOf(regional, 'AWS::CloudWatch::Dashboard'), 'MonitoringDashboard');
      expect(dashboard.DashboardName).toBe(`Commerce-${region}`);
      const body = JSON.stringify(dashboard.DashboardBody);
      for (const metric of [
        '5xx',
        'Latency',
        'Errors',
        'Throttles',
        'ReplicationLatency',
        'AuroraGlobalDBReplicationLag',
      ]) {
        expect(body).toContain(metric);
      }
    },
  );
});
