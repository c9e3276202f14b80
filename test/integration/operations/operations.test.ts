import type { Template } from 'aws-cdk-lib/assertions';
import { API_ROUTES } from '../../../lambda/shared/api-contract';
import { FAULT_DRILLS } from '../../../lib/operations/fault-drills';
import { REGIONAL_ALARMS } from '../../../lib/operations/regional-monitoring';
import { expectOnCallSubscription, ON_CALL_OPERATIONS } from '../../support/operations';
import {
  type BuiltPlatform,
  buildPlatform,
  DEFAULT_JURISDICTION_OF,
  type Resources,
  resourcesOf,
  statelessTemplate,
} from '../../support/platform';
import { metricsOf, only } from '../../support/templates';

// Each region's operations as the stateless stack wires them, with config overrides, on the
// whole app: which alarms a region has, what stops its drills, what its canaries walk. Each
// construct's own properties are in test/unit/operations.
const REGIONS = Object.keys(DEFAULT_JURISDICTION_OF);
const jurisdictionOf = (region: string) => DEFAULT_JURISDICTION_OF[region];

type Props = Record<string, any>;

let activeActive: BuiltPlatform;
// One synthesis of the active-active app with overrides (seconds on 2 cores), shared by every test.
beforeAll(() => {
  activeActive = buildPlatform(ON_CALL_OPERATIONS);
});

describe.each(REGIONS)('operations of %s', (region) => {
  const others = REGIONS.filter((r) => r !== region && jurisdictionOf(r) === jurisdictionOf(region));
  let template: Template;
  let alarms: Resources;
  let topicId: string;
  let topic: Props;
  beforeAll(() => {
    template = statelessTemplate(activeActive, region);
    alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
    [topicId, topic] = only(resourcesOf(template, 'AWS::SNS::Topic'), 'MonitoringAlarmTopic');
  });

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
    expectOnCallSubscription(template, topicId);
  });

  test('alarms take their thresholds from the config, watch every function, and each other region of the jurisdiction', () => {
    const alarm = (name: string) => only(alarms, `Monitoring${name}`)[1];
    expect(alarm('Api5xxRate').Threshold).toBe(2);
    expect(metricsOf(alarm('FunctionErrors'))).toHaveLength(7);
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
    // One forwarding integration per strong route, each to the writer hostname.
    const strongRoutes = API_ROUTES.filter((route) => route.strong).length;
    expect(integrations.filter((i) => i.IntegrationType === 'HTTP_PROXY').map((i) => i.IntegrationUri)).toEqual(
      Array(strongRoutes).fill(`https://${writerHost}`),
    );
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
