import { TopologyConfigError } from '../../lib/config/topology';
import { FAULT_DRILLS } from '../../lib/operations/fault-drills';
import { REGIONAL_ALARMS } from '../../lib/operations/regional-monitoring';
import { buildPlatform, type Resources, resourcesOf } from '../support/platform';

const activeActive = buildPlatform({
  operations: { alarmThresholds: { api5xxPercent: 2, evaluationPeriods: 4 }, alarmEmails: ['oncall@example.com'] },
});
const activePassive = buildPlatform({ deploymentModel: 'active-passive' });
const JURISDICTION_REGIONS: Record<string, string[]> = {
  global: ['us-east-1', 'ap-southeast-1'],
  eu: ['eu-west-1', 'eu-central-1'],
};
const REGIONS = Object.values(JURISDICTION_REGIONS).flat();
const jurisdictionOf = (region: string) =>
  Object.keys(JURISDICTION_REGIONS).find((j) => JURISDICTION_REGIONS[j]?.includes(region)) as string;

type Props = Record<string, any>;

function stateless(built: ReturnType<typeof buildPlatform>, region: string) {
  const template = built.templates[`Commerce-${region}-Stateless`];
  if (!template) throw new Error(`no stateless stack in ${region}`);
  return template;
}

function only(resources: Resources, prefix: string): [string, Props] {
  const matches = Object.entries(resources).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one resource ${prefix}*, found ${matches.map(([id]) => id)}`);
  const [id, resource] = matches[0] as [string, { Properties?: Props }];
  return [id, resource.Properties ?? {}];
}

/** Every metric an alarm reads, whether it has one metric or a math expression. */
function metricsOf(alarm: Props): { namespace: string; name: string; dims: Record<string, unknown>; stat?: string }[] {
  const stats = alarm.Metrics
    ? (alarm.Metrics as Props[]).filter((m) => m.MetricStat).map((m) => m.MetricStat)
    : [
        {
          Metric: { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions },
          Stat: alarm.ExtendedStatistic ?? alarm.Statistic,
        },
      ];
  return stats.map((s: Props) => ({
    namespace: s.Metric.Namespace,
    name: s.Metric.MetricName,
    dims: Object.fromEntries(((s.Metric.Dimensions ?? []) as Props[]).map((d) => [d.Name, d.Value])),
    stat: s.Stat,
  }));
}

describe.each(REGIONS)('operations of %s', (region) => {
  const template = stateless(activeActive, region);
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
  const [topicId, topic] = only(resourcesOf(template, 'AWS::SNS::Topic'), 'MonitoringAlarmTopic');
  const others = JURISDICTION_REGIONS[jurisdictionOf(region)]?.filter((r) => r !== region) ?? [];

  test('every regional alarm exists once, notifies the encrypted topic, with thresholds from the config', () => {
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^OperationsKey/), 'Arn'] });
    const expected = [
      ...REGIONAL_ALARMS,
      ...others.map((r) => `ReplicationLatencyTo${r.replace(/-/g, '')}`),
      'CanaryGlobal',
      'CanaryRegional',
    ];
    expect(Object.keys(alarms)).toHaveLength(expected.length);
    for (const name of expected) {
      const [, alarm] = only(alarms, `Monitoring${name}`);
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
      expect(alarm.EvaluationPeriods).toBe(4);
      expect(alarm.ComparisonOperator).toBe(
        name.startsWith('Canary') ? 'LessThanThreshold' : 'GreaterThanOrEqualToThreshold',
      );
    }
    expect(Object.values(resourcesOf(template, 'AWS::SNS::Subscription'))).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({
          Protocol: 'email',
          Endpoint: 'oncall@example.com',
          TopicArn: { Ref: topicId },
        }),
      }),
    ]);
  });

  test('alarms read the right metrics at the right thresholds', () => {
    const alarm = (name: string) => only(alarms, `Monitoring${name}`)[1];
    expect(alarm('Api5xxRate').Threshold).toBe(2);
    expect(
      metricsOf(alarm('Api5xxRate'))
        .map((m) => m.name)
        .sort(),
    ).toEqual(['5xx', 'Count']);
    expect(alarm('ApiP99Latency').Threshold).toBe(2000);
    expect(metricsOf(alarm('ApiP99Latency'))).toEqual([expect.objectContaining({ name: 'Latency', stat: 'p99' })]);
    expect(metricsOf(alarm('FunctionErrors'))).toHaveLength(7);
    expect(new Set(metricsOf(alarm('FunctionErrors')).map((m) => m.name))).toEqual(new Set(['Errors']));
    expect(new Set(metricsOf(alarm('FunctionThrottles')).map((m) => m.name))).toEqual(new Set(['Throttles']));
    for (const other of others) {
      const replication = alarm(`ReplicationLatencyTo${other.replace(/-/g, '')}`);
      expect(replication.Threshold).toBe(30000);
      expect(metricsOf(replication)).toEqual([
        {
          namespace: 'AWS/DynamoDB',
          name: 'ReplicationLatency',
          dims: { ReceivingRegion: other, TableName: `Commerce-${jurisdictionOf(region)}-eventual` },
          stat: 'Average',
        },
      ]);
    }
    const aurora = alarm('AuroraReplicationLag');
    expect(aurora).toMatchObject({ Threshold: 10000, TreatMissingData: 'notBreaching' });
    expect(metricsOf(aurora)).toEqual([
      expect.objectContaining({ namespace: 'AWS/RDS', name: 'AuroraGlobalDBReplicationLag', stat: 'Maximum' }),
    ]);
    expect(metricsOf(alarm('CacheThrottling'))).toEqual([
      expect.objectContaining({
        namespace: 'AWS/ElastiCache',
        name: 'ThrottledCmds',
        dims: { clusterId: expect.anything() },
      }),
    ]);
    expect(
      metricsOf(alarm('ProxyConnections'))
        .map((m) => m.name)
        .sort(),
    ).toEqual(['DatabaseConnections', 'MaxDatabaseConnectionsAllowed']);
  });

  test('two canaries walk the API, through the global hostname and the regional endpoint, taking turns', () => {
    const canaries = Object.values(resourcesOf(template, 'AWS::Synthetics::Canary')).map((c) => c.Properties as Props);
    expect(canaries.map((c) => c.Name).sort()).toEqual(['walk-global', 'walk-regional']);
    const byName = Object.fromEntries(canaries.map((c) => [c.Name, c]));
    const targetsOf = (name: string) => JSON.stringify(byName[name]?.RunConfig.EnvironmentVariables.CANARY_TARGETS);
    expect(targetsOf('walk-global')).toContain('https://shop.example.com');
    expect(targetsOf('walk-regional')).toContain(`.execute-api.${region}.`);
    expect(byName['walk-global']?.Schedule.Expression).toBe('cron(0/5 * * * ? *)');
    expect(byName['walk-regional']?.Schedule.Expression).toBe('cron(2/5 * * * ? *)');
    for (const canary of canaries) {
      expect(canary.RuntimeVersion).toMatch(/^syn-nodejs-/);
      expect(canary.RunConfig.EnvironmentVariables).toMatchObject({ CANARY_SKU: 'CANARY-1' });
    }
    // One canary user per region: both read the same secret.
    expect(byName['walk-global']?.RunConfig.EnvironmentVariables.CANARY_SECRET_ARN).toEqual(
      byName['walk-regional']?.RunConfig.EnvironmentVariables.CANARY_SECRET_ARN,
    );
    const canaryAlarm = only(alarms, 'MonitoringCanaryGlobal')[1];
    expect(canaryAlarm).toMatchObject({ Threshold: 90, TreatMissingData: 'breaching' });
    expect(metricsOf(canaryAlarm)).toEqual([
      expect.objectContaining({ namespace: 'CloudWatchSynthetics', name: 'SuccessPercent' }),
    ]);
  });

  test('a dashboard named after the region shows the alarms and signals', () => {
    const [, dashboard] = only(resourcesOf(template, 'AWS::CloudWatch::Dashboard'), 'MonitoringDashboard');
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
  });

  test('the promotion workflow switches or fails the Aurora writer over to this region and waits on its checks', () => {
    const [, machine] = only(resourcesOf(template, 'AWS::StepFunctions::StateMachine'), 'RegionPromotion');
    expect(machine.StateMachineName).toBe(`Commerce-promote-${region}`);
    const definition = JSON.parse(
      (machine.DefinitionString['Fn::Join'][1] as unknown[])
        .map((part) => (typeof part === 'string' ? part : '<ref>'))
        .join(''),
    );
    const states = definition.States as Record<string, Props>;
    const strongStore = `commerce-${jurisdictionOf(region)}-strong`;
    expect(states.SwitchoverGlobalCluster?.Resource).toMatch(/:states:::aws-sdk:rds:switchoverGlobalCluster$/);
    expect(states.SwitchoverGlobalCluster?.Arguments).toMatchObject({ GlobalClusterIdentifier: strongStore });
    expect(states.FailoverGlobalCluster?.Arguments).toMatchObject({
      GlobalClusterIdentifier: strongStore,
      AllowDataLoss: true,
    });
    expect(states.GetWriterHealthCheckStatus?.Resource).toMatch(/:states:::aws-sdk:route53:getHealthCheckStatus$/);
    expect(states.FailoverGlobalCluster?.Resource).toMatch(/:states:::aws-sdk:rds:failoverGlobalCluster$/);
    expect(Object.keys(states)).toEqual(
      expect.arrayContaining([
        'DescribeCurrentWriter',
        'CurrentWriterHealthy',
        'WaitForWriter',
        'WriterHealthCheckPassing',
      ]),
    );
    expect(machine.LoggingConfiguration.Level).toBe('ALL');
    expect(machine.TracingConfiguration.Enabled).toBe(true);
  });

  test("three drill templates, none started, each with stop conditions on this region's alarms", () => {
    const experiments = resourcesOf(template, 'AWS::FIS::ExperimentTemplate');
    expect(Object.keys(experiments)).toHaveLength(FAULT_DRILLS.length);
    const alarmIds = new Set(Object.keys(alarms));
    const actionOf = (name: string) => Object.values(only(experiments, `FaultDrills${name}`)[1].Actions as Props)[0];
    for (const name of FAULT_DRILLS) {
      const [, experiment] = only(experiments, `FaultDrills${name}`);
      expect(experiment.StopConditions.length).toBeGreaterThan(0);
      for (const condition of experiment.StopConditions) {
        expect(condition.Source).toBe('aws:cloudwatch:alarm');
        expect(alarmIds.has(condition.Value['Fn::GetAtt'][0])).toBe(true);
      }
    }
    expect(actionOf('NetworkIsolation')).toMatchObject({
      ActionId: 'aws:network:disrupt-connectivity',
      Parameters: { duration: 'PT10M', scope: 'all' },
    });
    expect(only(experiments, 'FaultDrillsNetworkIsolation')[1].Targets.regionSubnets).toMatchObject({
      ResourceType: 'aws:ec2:subnet',
      SelectionMode: 'ALL',
    });
    const stopsOn = (name: string) =>
      (only(experiments, `FaultDrills${name}`)[1].StopConditions as Props[]).map((c) => c.Value['Fn::GetAtt'][0]);
    expect(stopsOn('NetworkIsolation')).toEqual([expect.stringMatching(/^MonitoringCanaryGlobal/)]);
    expect(stopsOn('AuroraFailover')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MonitoringCanaryGlobal/),
        expect.stringMatching(/^MonitoringFunctionErrors/),
      ]),
    );
    expect(actionOf('ReplicationPause').ActionId).toBe('aws:dynamodb:global-table-pause-replication');
    expect(JSON.stringify(only(experiments, 'FaultDrillsReplicationPause')[1].Targets)).toContain(
      `table/Commerce-${jurisdictionOf(region)}-eventual`,
    );
    expect(actionOf('AuroraFailover').ActionId).toBe('aws:ssm:start-automation-execution');
    const [, document] = only(resourcesOf(template, 'AWS::SSM::Document'), 'FaultDrillsAuroraFailoverDocument');
    expect(JSON.stringify(document.Content)).toContain('RegionPromotion');
    // Nothing in the app starts an experiment.
    expect(JSON.stringify(template.toJSON())).not.toContain('fis:StartExperiment');
  });

  test('strong routes go to the writer hostname, which follows the writer health check', () => {
    const writerHost = `writer.${jurisdictionOf(region)}.api.shop.example.com`;
    const integrations = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Integration')).map(
      (r) => r.Properties as Props,
    );
    expect(integrations.filter((i) => i.IntegrationType === 'HTTP_PROXY').map((i) => i.IntegrationUri)).toEqual([
      `https://${writerHost}`,
    ]);
    const checks = Object.entries(resourcesOf(template, 'AWS::Route53::HealthCheck'));
    const [writerCheckId] =
      checks.find(([, c]) => (c.Properties as Props).HealthCheckConfig.ResourcePath === '/api/health/writer') ?? [];
    expect(writerCheckId).toBeDefined();
    const writerRecord = Object.values(resourcesOf(template, 'AWS::Route53::RecordSet'))
      .map((r) => r.Properties as Props)
      .find((r) => r.Name === `${writerHost}.`);
    expect(writerRecord).toMatchObject({ Region: region, HealthCheckId: { Ref: writerCheckId } });
    // The route answers 200 everywhere; only the writer region's body says so.
    const writerCheck = checks.find(([id]) => id === writerCheckId)?.[1].Properties as Props;
    expect(writerCheck.HealthCheckConfig).toMatchObject({ Type: 'HTTPS_STR_MATCH', SearchString: '"writer":true' });
  });
});

test('active-passive: the primary record serves only while its region is healthy and holds the writer', () => {
  for (const [jurisdiction, [primary]] of Object.entries(JURISDICTION_REGIONS)) {
    const template = stateless(activePassive, primary as string);
    const checks = resourcesOf(template, 'AWS::Route53::HealthCheck');
    const [calculatedId, calculated] = Object.entries(checks).find(
      ([, c]) => (c.Properties as Props).HealthCheckConfig.Type === 'CALCULATED',
    ) as [string, { Properties: Props }];
    expect(calculated.Properties.HealthCheckConfig.HealthThreshold).toBe(2);
    expect(calculated.Properties.HealthCheckConfig.ChildHealthChecks).toHaveLength(2);
    const record = Object.values(resourcesOf(template, 'AWS::Route53::RecordSet'))
      .map((r) => r.Properties as Props)
      .find((r) => r.Name === `${jurisdiction}.api.shop.example.com.` && r.Failover === 'PRIMARY');
    expect(record?.HealthCheckId).toEqual({ Ref: calculatedId });
  }
});

test('a bad threshold is refused naming the field, before anything is built', () => {
  expect(() => buildPlatform({ operations: { alarmThresholds: { api5xxPercent: 150 } } })).toThrow(TopologyConfigError);
  expect(() => buildPlatform({ operations: { alarmThresholds: { api5xxPercent: 150 } } })).toThrow(
    /operations\.alarmThresholds\.api5xxPercent: must be a percentage, at most 100/,
  );
  expect(() => buildPlatform({ operations: { alarmEmails: ['not-an-address'] } })).toThrow(
    /operations\.alarmEmails\[0\]/,
  );
});

test('the global dashboard puts every region side by side: traffic, p99, errors, replication lag', () => {
  const edge = activeActive.templates['Commerce-Edge'];
  if (!edge) throw new Error('no edge stack');
  const [, dashboard] = only(resourcesOf(edge, 'AWS::CloudWatch::Dashboard'), 'GlobalDashboard');
  expect(dashboard.DashboardName).toBe('Commerce-global');
  const body = JSON.parse(
    (dashboard.DashboardBody['Fn::Join']
      ? dashboard.DashboardBody['Fn::Join'][1].join('')
      : dashboard.DashboardBody) as string,
  ) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] };
  const widget = (title: string) => {
    const found = body.widgets.find((w) => w.properties.title?.startsWith(title));
    if (!found) throw new Error(`no widget ${title}`);
    return JSON.stringify(found.properties.metrics);
  };
  for (const [title, metric] of [
    ['Traffic', 'Count'],
    ['API p99', 'Latency'],
    ['API 5xx', '5xx'],
    ['Aurora global', 'AuroraGlobalDBReplicationLag'],
  ] as const) {
    const lines = JSON.parse(widget(title)) as { label: string; expression: string; region?: string }[][];
    expect(lines.map(([line]) => line?.label)).toEqual(REGIONS);
    for (const [line] of lines) {
      expect(line?.expression).toContain(`MetricName="${metric}"`);
      // The dashboard lives in us-east-1: a line of another region must say where to search.
      expect(line?.region).toBe(line?.label === 'us-east-1' ? undefined : line?.label);
    }
  }
  const tableLag = widget('Global-table replication');
  for (const [jurisdiction, regions] of Object.entries(JURISDICTION_REGIONS)) {
    for (const from of regions) {
      for (const to of regions.filter((r) => r !== from)) {
        expect(tableLag).toContain(`"label":"${from} → ${to}"`);
      }
    }
    expect(tableLag).toContain(`Commerce-${jurisdiction}-eventual`);
  }
});
