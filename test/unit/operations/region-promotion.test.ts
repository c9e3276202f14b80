import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { strongStoreIdentifier } from '../../../lib/config/names';
import { resolveTopology } from '../../../lib/config/topology';
import { RegionPromotion } from '../../../lib/operations/region-promotion';
import { promotionWorkflowName } from '../../../lib/stacks/stateless-stack';
import { oneStack } from '../../support/one-stack';
import { only, resourcesOf } from '../../support/templates';

const topology = resolveTopology({}, 'test');

/** The region's workflow in a stack of its own; cluster and writer health check given by ARN and id. */
function build(region: string) {
  const { stack } = oneStack({ region });
  const jurisdiction = topology.jurisdictionOf(region);
  const key = new kms.Key(stack, 'OperationsKey');
  new RegionPromotion(stack, 'RegionPromotion', {
    stateMachineName: promotionWorkflowName(topology, region),
    globalClusterIdentifier: strongStoreIdentifier(topology.config.appName, jurisdiction.name),
    clusterArn: `arn:aws:rds:${region}:123456789012:cluster:commerce-${region}`,
    jurisdictionRegions: jurisdiction.regions,
    writerHealthCheck: route53.HealthCheck.fromHealthCheckId(stack, 'WriterHealthCheck', 'hc-writer-1'),
    logEncryptionKey: key,
  });
  const template = Template.fromStack(stack);
  return { template, jurisdiction, keyId: stack.getLogicalId(key.node.defaultChild as kms.CfnKey) };
}

type Props = Record<string, any>;

/** The parts of the state machine's definition, an `Fn::Join` of text and references. */
function definitionParts(machine: Props): unknown[] {
  const [, parts] = machine.DefinitionString['Fn::Join'];
  if (!Array.isArray(parts)) throw new Error('the state machine definition is not an Fn::Join');
  return parts;
}

function statesOf(machine: Props): Record<string, Props> {
  const definition = JSON.parse(
    definitionParts(machine)
      .map((part) => (typeof part === 'string' ? part : '<ref>'))
      .join(''),
  );
  return definition.States;
}

describe('RegionPromotion', () => {
  test.each(['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1'])(
    'the workflow of %s switches or fails the Aurora writer over to its region and waits on its checks',
    (region) => {
      // given the region's cluster and writer health check; when its workflow is built
      const { template, jurisdiction } = build(region);
      // then
      const [, machine] = only(resourcesOf(template, 'AWS::StepFunctions::StateMachine'), 'RegionPromotion');
      expect(machine.StateMachineName).toBe(`Commerce-promote-${region}`);
      const states = statesOf(machine);
      const strongStore = `commerce-${jurisdiction.name}-strong`;
      expect(states.SwitchoverGlobalCluster?.Resource).toMatch(/:states:::aws-sdk:rds:switchoverGlobalCluster$/);
      expect(states.SwitchoverGlobalCluster?.Arguments).toMatchObject({ GlobalClusterIdentifier: strongStore });
      expect(states.FailoverGlobalCluster?.Arguments).toMatchObject({
        GlobalClusterIdentifier: strongStore,
        AllowDataLoss: true,
      });
      expect(states.GetWriterHealthCheckStatus?.Resource).toMatch(/:states:::aws-sdk:route53:getHealthCheckStatus$/);
      expect(states.GetWriterHealthCheckStatus?.Arguments).toEqual({ HealthCheckId: 'hc-writer-1' });
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
    },
  );

  test('asks the current writer region, retrying first; a refusal stops it, an outage fails over', () => {
    // given, when
    const { template } = build('eu-central-1');
    // then
    const [, machine] = only(resourcesOf(template, 'AWS::StepFunctions::StateMachine'), 'RegionPromotion');
    const states = statesOf(machine);
    const ask = states.DescribeCurrentWriter as Props;
    expect(ask.Retry).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 })]);
    expect(ask.Catch.map((c: Props) => [c.ErrorEquals.includes('States.ALL'), c.Next])).toEqual([
      [false, 'CannotAskCurrentWriter'],
      [true, 'FailoverGlobalCluster'],
    ]);
    expect(states.CannotAskCurrentWriter?.Type).toBe('Fail');
    expect(states.UnknownMode?.Type).toBe('Fail');
    expect(states.ReadMode?.Type).toBe('Pass');
    // A whole promotion may take an hour.
    const definition = definitionParts(machine)
      .filter((p) => typeof p === 'string')
      .join('');
    expect(definition).toContain('"TimeoutSeconds":3600');
  });

  test("its calls are limited to the jurisdiction's clusters and the writer health check", () => {
    // given, when
    const { template } = build('eu-west-1');
    // then
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties as Props).PolicyDocument.Statement as Props[],
    );
    const resourcesFor = (action: string) =>
      JSON.stringify(statements.filter((s) => [s.Action].flat().includes(action)).map((s) => s.Resource));
    const switchover = resourcesFor('rds:switchoverGlobalCluster');
    expect(switchover).toContain('global-cluster:commerce-eu-strong');
    expect(switchover).toContain(':rds:eu-west-1:123456789012:cluster:*');
    expect(switchover).toContain(':rds:eu-central-1:123456789012:cluster:*');
    expect(switchover).not.toMatch(/us-east-1|ap-southeast-1/);
    expect(resourcesFor('route53:getHealthCheckStatus')).toContain('healthcheck/hc-writer-1');
  });

  test("the execution logs and CDK's cross-region handler logs are kept under the given key", () => {
    // given, when
    const { template, keyId } = build('eu-west-1');
    // then
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup')).map((g) => g.Properties as Props);
    expect(logGroups).toHaveLength(2);
    for (const group of logGroups) {
      expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(group.RetentionInDays).toBe(365);
    }
  });

  test("CDK's cross-region handler may write its own log group and no other, with no managed policy", () => {
    // given, when
    const { template } = build('eu-west-1');
    // then
    const resources = resourcesOf(template);
    const [roleId, role] = only(resourcesOf(template, 'AWS::IAM::Role'), 'CrossRegionAwsSdk');
    expect(role.ManagedPolicyArns).toBeUndefined();
    const [groupId] = only(resourcesOf(template, 'AWS::Logs::LogGroup'), 'CrossRegionAwsSdk');
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(roleId))
      .flatMap((r) => ((r.Properties?.PolicyDocument as Props | undefined)?.Statement ?? []) as Props[]);
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('logs:'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [groupId, 'Arn'] },
      },
    ]);
  });
});
