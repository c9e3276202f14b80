import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The drills every region has. */
export const FAULT_DRILLS = ['NetworkIsolation', 'ReplicationPause', 'AuroraFailover'] as const;
export type FaultDrillName = (typeof FAULT_DRILLS)[number];

export interface FaultDrillsProps {
  /** The region's isolated subnets, where the functions, cache, proxy and cluster live. */
  readonly subnets: readonly ec2.ISubnet[];
  /** This region's replica of the jurisdiction's global table, by its fixed name. */
  readonly eventualTableName: string;
  /**
   * The region's promotion workflow, which the Aurora drill runs.
   * @default no Aurora drill (a jurisdiction with one region has nowhere to fail over to)
   */
  readonly promotion?: { readonly stateMachine: sfn.IStateMachine; readonly stateMachineName: string };
  /** Prefix of the automation document's name. */
  readonly namePrefix: string;
  /** Alarms that stop a drill: the drill's hypothesis is that none of them fires. */
  readonly stopConditions: Readonly<Record<FaultDrillName, readonly cloudwatch.IAlarm[]>>;
  /**
   * How long the network and replication faults last.
   * @default Duration.minutes(10)
   */
  readonly faultDuration?: Duration;
}

/**
 * AWS Fault Injection Service experiment templates for the region-failure drills. They
 * are only templates: nothing here starts them (`aws fis start-experiment`, see
 * docs/operations.md), and each stops itself when one of its stop-condition alarms fires.
 *
 * * `NetworkIsolation`: every isolated subnet of the region loses all connectivity,
 *   so the region's functions reach no store and its health check fails;
 * * `ReplicationPause`: the region's global-table replica stops replicating;
 * * `AuroraFailover`: runs the region's promotion workflow in `failover` mode through an
 *   SSM Automation document — FIS has no Aurora global-database action of its own.
 */
export class FaultDrills extends Construct {
  readonly templates: ReadonlyMap<FaultDrillName, fis.CfnExperimentTemplate>;

  constructor(scope: Construct, id: string, props: FaultDrillsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const duration = `PT${(props.faultDuration ?? Duration.minutes(10)).toMinutes()}M`;
    const templates = new Map<FaultDrillName, fis.CfnExperimentTemplate>();
    this.templates = templates;
    const roleFor = (name: FaultDrillName) =>
      new iam.Role(this, `${name}Role`, {
        description: `FIS runs the ${name} drill of ${stack.region} with this role`,
        assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      });
    const template = (
      name: FaultDrillName,
      role: iam.IRole,
      description: string,
      actions: Record<string, fis.CfnExperimentTemplate.ExperimentTemplateActionProperty>,
      targets?: Record<string, fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty>,
    ) => {
      const stopAlarms = props.stopConditions[name];
      if (stopAlarms.length === 0)
        throw new Error(`${this.node.path}: the ${name} drill needs at least one stop-condition alarm`);
      templates.set(
        name,
        new fis.CfnExperimentTemplate(this, name, {
          description,
          roleArn: role.roleArn,
          actions,
          targets: targets ?? {},
          stopConditions: stopAlarms.map((alarm) => ({ source: 'aws:cloudwatch:alarm', value: alarm.alarmArn })),
          experimentOptions: { emptyTargetResolutionMode: 'fail' },
          tags: { Name: `${stack.stackName}-${name}` },
        }),
      );
    };

    const networkRole = roleFor('NetworkIsolation');
    networkRole.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSFaultInjectionSimulatorNetworkAccess'),
    );
    Validations.of(networkRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess]',
      reason:
        "AWS's policy for FIS network actions (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSFaultInjectionSimulatorNetworkAccess.html), assumed by FIS only: aws:network:disrupt-connectivity uses its network ACL part (create and delete ACLs tagged managedByFIS, swap any subnet's ACL association, EC2 Describe* on '*'); it also allows the route-table, transit-gateway and prefix-list actions of FIS's other network actions, in any region of the account. Taken whole because AWS changes it with the actions.",
    });
    template(
      'NetworkIsolation',
      networkRole,
      `Drill: isolate every subnet of ${stack.region} for ${duration}; clients must be served by another region.`,
      {
        isolate: {
          actionId: 'aws:network:disrupt-connectivity',
          parameters: { duration, scope: 'all' },
          targets: { Subnets: 'regionSubnets' },
        },
      },
      {
        regionSubnets: {
          resourceType: 'aws:ec2:subnet',
          resourceArns: props.subnets.map(
            (subnet) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:subnet/${subnet.subnetId}`,
          ),
          selectionMode: 'ALL',
        },
      },
    );

    const tableArn = `arn:${stack.partition}:dynamodb:${stack.region}:${stack.account}:table/${props.eventualTableName}`;
    const replicationRole = roleFor('ReplicationPause');
    replicationRole.addToPolicy(
      new iam.PolicyStatement({
        // FIS pauses replication by a resource policy on the replica that it removes afterwards.
        actions: [
          'dynamodb:DescribeTable',
          'dynamodb:GetResourcePolicy',
          'dynamodb:PutResourcePolicy',
          'dynamodb:DeleteResourcePolicy',
        ],
        resources: [tableArn],
      }),
    );
    template(
      'ReplicationPause',
      replicationRole,
      `Drill: pause global-table replication of the ${stack.region} replica for ${duration}; no acknowledged write may be lost.`,
      {
        pause: {
          actionId: 'aws:dynamodb:global-table-pause-replication',
          parameters: { duration },
          targets: { Tables: 'replica' },
        },
      },
      { replica: { resourceType: 'aws:dynamodb:global-table', resourceArns: [tableArn], selectionMode: 'ALL' } },
    );

    if (props.promotion) {
      this.auroraFailover(
        props.promotion,
        `${props.namePrefix}-AuroraFailoverDrill`,
        roleFor('AuroraFailover'),
        template,
      );
    }
  }

  private auroraFailover(
    promotion: NonNullable<FaultDrillsProps['promotion']>,
    documentName: string,
    fisRole: iam.Role,
    template: (
      name: FaultDrillName,
      role: iam.IRole,
      description: string,
      actions: Record<string, fis.CfnExperimentTemplate.ExperimentTemplateActionProperty>,
    ) => void,
  ): void {
    const stack = Stack.of(this);
    const automationRole = new iam.Role(this, 'AuroraFailoverAutomationRole', {
      description: `SSM Automation starts the ${stack.region} promotion workflow with this role`,
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    const inRegion = (service: string, resource: string) =>
      `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
    promotion.stateMachine.grantStartExecution(automationRole);
    const executions = inRegion('states', `execution:${promotion.stateMachineName}:*`);
    automationRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
    );
    Validations.of(automationRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${executions}]`,
      reason: 'Reading the executions of the promotion workflow only; an execution ARN ends in a generated name.',
    });
    const document = new ssm.CfnDocument(this, 'AuroraFailoverDocument', {
      // Named: FIS and operators start it by name, and IAM can then name it exactly.
      name: documentName,
      // A named document cannot be replaced: an edit becomes its new default version.
      updateMethod: 'NewVersion',
      documentType: 'Automation',
      content: {
        schemaVersion: '0.3',
        description: 'Runs the region promotion workflow and waits until it succeeds (the Aurora failover drill).',
        assumeRole: '{{ AutomationAssumeRole }}',
        parameters: {
          AutomationAssumeRole: { type: 'String' },
          Mode: { type: 'String', default: 'failover', allowedValues: ['auto', 'switchover', 'failover'] },
        },
        mainSteps: [
          {
            name: 'StartPromotion',
            action: 'aws:executeAwsApi',
            inputs: {
              Service: 'stepfunctions',
              Api: 'StartExecution',
              stateMachineArn: promotion.stateMachine.stateMachineArn,
              input: '{"mode": "{{ Mode }}"}',
            },
            outputs: [{ Name: 'ExecutionArn', Selector: '$.executionArn', Type: 'String' }],
          },
          {
            name: 'WaitForPromotion',
            action: 'aws:waitForAwsResourceProperty',
            timeoutSeconds: 3600,
            inputs: {
              Service: 'stepfunctions',
              Api: 'DescribeExecution',
              executionArn: '{{ StartPromotion.ExecutionArn }}',
              PropertySelector: '$.status',
              DesiredValues: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
            },
          },
          {
            // A failed promotion fails the drill now, not when the wait times out.
            name: 'PromotionSucceeded',
            action: 'aws:assertAwsResourceProperty',
            inputs: {
              Service: 'stepfunctions',
              Api: 'DescribeExecution',
              executionArn: '{{ StartPromotion.ExecutionArn }}',
              PropertySelector: '$.status',
              DesiredValues: ['SUCCEEDED'],
            },
          },
        ],
      },
    });
    const documentArn = inRegion('ssm', `document/${documentName}`);
    const documentVersions = inRegion('ssm', `automation-definition/${documentName}:*`);
    const automationExecutions = inRegion('ssm', 'automation-execution/*');
    fisRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['ssm:StartAutomationExecution'], resources: [documentVersions] }),
    );
    fisRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetAutomationExecution', 'ssm:StopAutomationExecution'],
        resources: [automationExecutions],
      }),
    );
    automationRole.grantPassRole(fisRole);
    Validations.of(fisRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${documentVersions}]`,
      reason: 'Starting any version of this one automation document; versions are numbered by SSM.',
    });
    Validations.of(fisRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${automationExecutions}]`,
      reason:
        'Watching and stopping the automation FIS started; execution ids are generated and this action has no narrower resource.',
    });
    template(
      'AuroraFailover',
      fisRole,
      `Drill: fail the jurisdiction's Aurora global writer over to ${stack.region} with the promotion workflow.`,
      {
        failover: {
          actionId: 'aws:ssm:start-automation-execution',
          parameters: {
            documentArn,
            documentParameters: stack.toJsonString({ AutomationAssumeRole: automationRole.roleArn, Mode: 'failover' }),
            maxDuration: 'PT1H',
          },
        },
      },
    );
    // The template names the document by ARN, which CloudFormation cannot see as a reference.
    this.templates.get('AuroraFailover')?.addResourceDependency(document);
  }
}
