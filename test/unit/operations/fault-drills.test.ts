import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FAULT_DRILLS, FaultDrills, type FaultDrillsProps } from '../../../lib/operations/fault-drills';
import { isolatedVpc, oneStack } from '../../support/one-stack';
import { only, resourcesOf } from '../../support/templates';

type Props = Record<string, any>;

/** The region's drills in a stack of its own: its subnets, three alarms and its promotion workflow by name. */
function build(overrides: Partial<FaultDrillsProps> = {}) {
  const { stack } = oneStack({ region: 'eu-west-1' });
  const vpc = isolatedVpc(stack);
  const alarm = (id: string) =>
    new cloudwatch.Alarm(stack, id, {
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: id }),
      threshold: 1,
      evaluationPeriods: 1,
    });
  const [canaryGlobal, functionErrors, api5xx] = [alarm('CanaryGlobal'), alarm('FunctionErrors'), alarm('Api5xxRate')];
  const drills = new FaultDrills(stack, 'FaultDrills', {
    subnets: vpc.isolatedSubnets,
    eventualTableName: 'Commerce-eu-eventual',
    namePrefix: 'Commerce-eu-west-1',
    promotion: {
      stateMachine: sfn.StateMachine.fromStateMachineName(stack, 'Promotion', 'Commerce-promote-eu-west-1'),
      stateMachineName: 'Commerce-promote-eu-west-1',
    },
    stopConditions: {
      NetworkIsolation: [canaryGlobal],
      ReplicationPause: [api5xx, functionErrors, canaryGlobal],
      AuroraFailover: [functionErrors, canaryGlobal],
    },
    ...overrides,
  });
  const template = Template.fromStack(stack);
  return { stack, vpc, drills, template, experiments: resourcesOf(template, 'AWS::FIS::ExperimentTemplate') };
}

describe('FaultDrills', () => {
  // given the region's subnets, table, promotion workflow and alarms; when its drills are built
  const { stack, vpc, drills, template, experiments } = build();
  const experiment = (name: string) => only(experiments, `FaultDrills${name}`)[1];
  const actionOf = (name: string) => Object.values(experiment(name).Actions as Props)[0];
  const stopsOn = (name: string) => (experiment(name).StopConditions as Props[]).map((c) => c.Value['Fn::GetAtt'][0]);

  test('three drill templates, none started, each stopped by the alarms it was given', () => {
    // then
    expect(Object.keys(experiments)).toHaveLength(FAULT_DRILLS.length);
    expect([...drills.templates.keys()]).toEqual([...FAULT_DRILLS]);
    for (const name of FAULT_DRILLS) {
      for (const condition of experiment(name).StopConditions) expect(condition.Source).toBe('aws:cloudwatch:alarm');
      expect(experiment(name).ExperimentOptions).toEqual({ EmptyTargetResolutionMode: 'fail' });
    }
    expect(stopsOn('NetworkIsolation')).toEqual([expect.stringMatching(/^CanaryGlobal/)]);
    expect(stopsOn('ReplicationPause')).toEqual([
      expect.stringMatching(/^Api5xxRate/),
      expect.stringMatching(/^FunctionErrors/),
      expect.stringMatching(/^CanaryGlobal/),
    ]);
    expect(stopsOn('AuroraFailover')).toEqual([
      expect.stringMatching(/^FunctionErrors/),
      expect.stringMatching(/^CanaryGlobal/),
    ]);
    // Nothing here starts an experiment.
    expect(JSON.stringify(template.toJSON())).not.toContain('fis:StartExperiment');
  });

  test('network isolation cuts every isolated subnet of the region for 10 minutes', () => {
    // then
    expect(actionOf('NetworkIsolation')).toMatchObject({
      ActionId: 'aws:network:disrupt-connectivity',
      Parameters: { duration: 'PT10M', scope: 'all' },
      Targets: { Subnets: 'regionSubnets' },
    });
    const targets = experiment('NetworkIsolation').Targets.regionSubnets;
    expect(targets).toMatchObject({ ResourceType: 'aws:ec2:subnet', SelectionMode: 'ALL' });
    expect(JSON.stringify(targets.ResourceArns)).toEqual(
      JSON.stringify(
        vpc.isolatedSubnets.map((s) => ({
          'Fn::Join': ['', ['arn:aws:ec2:eu-west-1:123456789012:subnet/', stack.resolve(s.subnetId)]],
        })),
      ),
    );
  });

  test("replication pause stops the region's replica of the global table, and may touch only that table", () => {
    // then
    expect(actionOf('ReplicationPause')).toMatchObject({
      ActionId: 'aws:dynamodb:global-table-pause-replication',
      Parameters: { duration: 'PT10M' },
    });
    const tableArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Commerce-eu-eventual';
    expect(experiment('ReplicationPause').Targets.replica).toEqual({
      ResourceType: 'aws:dynamodb:global-table',
      ResourceArns: [tableArn],
      SelectionMode: 'ALL',
    });
    const [, policy] = only(resourcesOf(template, 'AWS::IAM::Policy'), 'FaultDrillsReplicationPauseRole');
    expect(policy.PolicyDocument.Statement).toEqual([expect.objectContaining({ Resource: tableArn })]);
  });

  test('the Aurora drill runs the promotion workflow in failover mode through an automation document', () => {
    // then
    expect(actionOf('AuroraFailover').ActionId).toBe('aws:ssm:start-automation-execution');
    expect(actionOf('AuroraFailover').Parameters.documentArn).toBe(
      'arn:aws:ssm:eu-west-1:123456789012:document/Commerce-eu-west-1-AuroraFailoverDrill',
    );
    const [documentId, document] = only(
      resourcesOf(template, 'AWS::SSM::Document'),
      'FaultDrillsAuroraFailoverDocument',
    );
    expect(document).toMatchObject({ Name: 'Commerce-eu-west-1-AuroraFailoverDrill', DocumentType: 'Automation' });
    expect(JSON.stringify(document.Content)).toContain('stateMachine:Commerce-promote-eu-west-1');
    expect(document.Content.mainSteps.map((s: Props) => s.name)).toEqual([
      'StartPromotion',
      'WaitForPromotion',
      'PromotionSucceeded',
    ]);
    const [, aurora] =
      Object.entries(resourcesOf(template, 'AWS::FIS::ExperimentTemplate')).find(([id]) =>
        id.startsWith('FaultDrillsAuroraFailover'),
      ) ?? [];
    expect(aurora).toMatchObject({ DependsOn: expect.arrayContaining([documentId]) });
  });

  test('each drill runs as a role of its own that only FIS of this account may assume', () => {
    // then
    const fisRoles = Object.values(resourcesOf(template, 'AWS::IAM::Role'))
      .map((role) => role.Properties as Props)
      .filter((role) => JSON.stringify(role.AssumeRolePolicyDocument).includes('fis.amazonaws.com'));
    expect(fisRoles).toHaveLength(3);
    for (const role of fisRoles) {
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }),
      ]);
    }
  });

  test('without a promotion workflow there is no Aurora drill; the fault duration can change', () => {
    // given, when
    const { template: single, experiments: two } = build({ promotion: undefined, faultDuration: Duration.minutes(3) });
    // then
    expect(Object.keys(two).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'FaultDrillsNetworkIsolation',
      'FaultDrillsReplicationPause',
    ]);
    single.resourceCountIs('AWS::SSM::Document', 0);
    expect(JSON.stringify(two)).toContain('"duration":"PT3M"');
  });

  test('a drill with no stop-condition alarm is refused, naming it', () => {
    // given, when, then
    expect(() => build({ stopConditions: { NetworkIsolation: [], ReplicationPause: [], AuroraFailover: [] } })).toThrow(
      'Test/FaultDrills: the NetworkIsolation drill needs at least one stop-condition alarm',
    );
  });
});
