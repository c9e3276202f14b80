import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { confineExecutionRole } from '../functions/execution-role';

const CROSS_REGION_HANDLER_ID = 'CrossRegionAwsSdk8a0c93f3dbef4b71ac137aaf2048ce7e';

/** How the workflow moves the writer; `auto` picks switchover if the current writer answers. */
export const PROMOTION_MODES = ['auto', 'switchover', 'failover'] as const;
export type PromotionMode = (typeof PROMOTION_MODES)[number];

export interface RegionPromotionProps {
  /**
   * Name of the state machine: the runbook tells the on-call engineer to start it by name.
   * @default a generated name
   */
  readonly stateMachineName?: string;
  /** Identifier of the jurisdiction's Aurora global cluster. */
  readonly globalClusterIdentifier: string;
  /** ARN of this region's cluster, the one to promote. */
  readonly clusterArn: string;
  /** Every region of the jurisdiction (the current writer is one of them). */
  readonly jurisdictionRegions: readonly string[];
  /** This region's writer health check: passes once the region serves strong requests. */
  readonly writerHealthCheck: route53.IHealthCheck;
  /**
   * How long the whole promotion may take before the execution fails.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * Key that encrypts the execution logs.
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * "Make this region the jurisdiction's writer": a Step Functions workflow, one in every
 * region of a jurisdiction, so that the one to run is always in a region that is up.
 *
 * Input `{ "mode": "auto" | "switchover" | "failover" }` (default `auto`):
 * 1. reads the global cluster; if this region already holds the writer, it stops;
 * 2. `auto` asks the current writer's region for its cluster: answering and `available`
 *    means switchover (no data loss), anything else — an error, a timeout — failover;
 * 3. calls `SwitchoverGlobalCluster` or `FailoverGlobalCluster` (`AllowDataLoss`);
 * 4. waits until the global cluster is `available` with this region's cluster as writer;
 * 5. waits until this region's writer health check passes in Route 53: from then on
 *    `writer.<jurisdiction>.api` resolves here, and in active-passive the jurisdiction's
 *    failover record follows (its primary record's check requires the writer).
 */
export class RegionPromotion extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RegionPromotionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arn = `arn:${stack.partition}`;
    const globalClusterArn = `${arn}:rds::${stack.account}:global-cluster:${props.globalClusterIdentifier}`;
    const clusterArnsOfJurisdiction = props.jurisdictionRegions.map(
      (region) => `${arn}:rds:${region}:${stack.account}:cluster:*`,
    );
    const healthCheckArn = `${arn}:route53:::healthcheck/${props.writerHealthCheck.healthCheckId}`;

    const describe = (name: string) =>
      withRetries(
        tasks.CallAwsService.jsonata(this, name, {
          service: 'rds',
          action: 'describeGlobalClusters',
          parameters: { GlobalClusterIdentifier: props.globalClusterIdentifier },
          iamResources: [globalClusterArn],
          assign: {
            status: '{% $states.result.GlobalClusters[0].Status %}',
            // Mid-switch no member may be the writer yet: then there is none ('').
            writerArn:
              "{% $exists($states.result.GlobalClusters[0].GlobalClusterMembers[IsWriter = true].DBClusterArn) ? $states.result.GlobalClusters[0].GlobalClusterMembers[IsWriter = true].DBClusterArn : '' %}",
          },
        }),
      );

    const done = new sfn.Succeed(this, 'ThisRegionIsTheWriter');
    const badInput = sfn.Fail.jsonata(this, 'UnknownMode', {
      error: 'UnknownMode',
      cause: `{% 'mode must be one of ${PROMOTION_MODES.join(', ')}; got ' & $string($mode) %}`,
    });

    const switchover = tasks.CallAwsService.jsonata(this, 'SwitchoverGlobalCluster', {
      service: 'rds',
      action: 'switchoverGlobalCluster',
      parameters: {
        GlobalClusterIdentifier: props.globalClusterIdentifier,
        TargetDbClusterIdentifier: props.clusterArn,
      },
      iamResources: [globalClusterArn, ...clusterArnsOfJurisdiction],
    });
    const failover = tasks.CallAwsService.jsonata(this, 'FailoverGlobalCluster', {
      service: 'rds',
      action: 'failoverGlobalCluster',
      parameters: {
        GlobalClusterIdentifier: props.globalClusterIdentifier,
        TargetDbClusterIdentifier: props.clusterArn,
        AllowDataLoss: true,
      },
      iamResources: [globalClusterArn, ...clusterArnsOfJurisdiction],
    });

    const askCurrentWriter = this.askCurrentWriter(clusterArnsOfJurisdiction, switchover, failover);
    const waitForWriter = this.waitForTheSwitch(props, describe, healthCheckArn, done);
    for (const call of [switchover, failover]) call.next(waitForWriter);

    const start = sfn.Pass.jsonata(this, 'ReadMode', {
      assign: { mode: "{% $exists($states.input.mode) ? $states.input.mode : 'auto' %}" },
    });
    const first = describe('DescribeGlobalCluster');
    start.next(first);
    first.next(
      sfn.Choice.jsonata(this, 'AlreadyWriter')
        .when(sfn.Condition.jsonata(`{% $writerArn = '${props.clusterArn}' %}`), done)
        .when(sfn.Condition.jsonata("{% $mode = 'switchover' %}"), switchover)
        .when(sfn.Condition.jsonata("{% $mode = 'failover' %}"), failover)
        .when(sfn.Condition.jsonata("{% $mode = 'auto' %}"), askCurrentWriter)
        .otherwise(badInput),
    );

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      timeout: props.timeout ?? Duration.hours(1),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'Promote this region to the Aurora global writer; see docs/operations.md',
    });
    this.acknowledgeFindings(clusterArnsOfJurisdiction);
    this.encryptHandlerLogs(props.logEncryptionKey);
  }

  /**
   * The writer's region is another one, reachable only by a call made from there: a
   * healthy writer is switched over (no data loss), an unreachable one failed over.
   */
  private askCurrentWriter(
    clusterArnsOfJurisdiction: string[],
    switchover: tasks.CallAwsService,
    failover: tasks.CallAwsService,
  ): tasks.CallAwsServiceCrossRegion {
    const askCurrentWriter = tasks.CallAwsServiceCrossRegion.jsonata(this, 'DescribeCurrentWriter', {
      region: "{% $split($writerArn, ':')[3] %}",
      service: 'rds',
      action: 'describeDBClusters',
      parameters: { DBClusterIdentifier: '{% $writerArn %}' },
      iamResources: clusterArnsOfJurisdiction,
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
      outputs: { writerStatus: '{% $states.result.DBClusters[0].Status %}' },
    });
    const pickByWriterHealth = sfn.Choice.jsonata(this, 'CurrentWriterHealthy')
      .when(sfn.Condition.jsonata("{% $states.input.writerStatus = 'available' %}"), switchover)
      .otherwise(failover);
    // A failover may lose data, so one passing error must not choose it: retry first, and
    // an error that says the question was wrong, not unanswered, stops the workflow.
    askCurrentWriter.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 3,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    askCurrentWriter.addCatch(
      sfn.Fail.jsonata(this, 'CannotAskCurrentWriter', {
        error: 'CannotAskCurrentWriter',
        cause:
          'The current writer region refused the question (permissions or a wrong cluster); start again with mode "switchover" or "failover".',
      }),
      {
        errors: ['AccessDenied', 'AccessDeniedException', 'DBClusterNotFoundFault', 'DBClusterNotFoundFaultException'],
      },
    );
    askCurrentWriter.addCatch(failover, { errors: ['States.ALL'] });
    askCurrentWriter.next(pickByWriterHealth);
    return askCurrentWriter;
  }

  /** After a switchover or failover: wait until this region is the writer and Route 53 sees it. */
  private waitForTheSwitch(
    props: RegionPromotionProps,
    describe: (name: string) => tasks.CallAwsService,
    healthCheckArn: string,
    done: sfn.Succeed,
  ): sfn.Wait {
    const waitForWriter = sfn.Wait.jsonata(this, 'WaitForWriter', {
      time: sfn.WaitTime.duration(Duration.seconds(20)),
    });
    const checkWriter = describe('DescribeGlobalClusterAfterSwitch');
    const waitForHealthCheck = sfn.Wait.jsonata(this, 'WaitForWriterHealthCheck', {
      time: sfn.WaitTime.duration(Duration.seconds(10)),
    });
    const healthCheckStatus = withRetries(
      tasks.CallAwsService.jsonata(this, 'GetWriterHealthCheckStatus', {
        service: 'route53',
        action: 'getHealthCheckStatus',
        parameters: { HealthCheckId: props.writerHealthCheck.healthCheckId },
        iamResources: [healthCheckArn],
        outputs: {
          // Route 53's checkers each report; most of them must see the region as the writer.
          passing:
            "{% $count($states.result.HealthCheckObservations[$contains(StatusReport.Status, 'Success')]) * 2 > $count($states.result.HealthCheckObservations) %}",
        },
      }),
    );
    const switched = sfn.Choice.jsonata(this, 'WriterMoved')
      .when(
        sfn.Condition.jsonata(`{% $status = 'available' and $writerArn = '${props.clusterArn}' %}`),
        waitForHealthCheck,
      )
      .otherwise(waitForWriter);
    waitForWriter.next(checkWriter);
    checkWriter.next(switched);
    waitForHealthCheck.next(healthCheckStatus);
    healthCheckStatus.next(
      sfn.Choice.jsonata(this, 'WriterHealthCheckPassing')
        .when(sfn.Condition.jsonata('{% $states.input.passing %}'), done)
        .otherwise(waitForHealthCheck),
    );

    return waitForWriter;
  }

  /**
   * CDK's cross-region handler gets its log group from CDK (`/aws/lambda/<its name>`, made
   * after the function, which only this workflow invokes, never a deploy): the workflow's key,
   * the workflow's retention, and a role that writes that group only.
   */
  private encryptHandlerLogs(key: kms.IKey | undefined): void {
    const handler = Stack.of(this).node.tryFindChild(CROSS_REGION_HANDLER_ID);
    const logGroup = handler?.node.tryFindChild('LogGroup');
    if (!(handler instanceof lambda.Function) || !(logGroup instanceof logs.LogGroup)) return;
    const cfnLogGroup = logGroup.node.defaultChild as logs.CfnLogGroup;
    if (key) cfnLogGroup.kmsKeyId = key.keyArn;
    cfnLogGroup.retentionInDays = logs.RetentionDays.ONE_YEAR;
    if (!handler.node.tryFindChild('LogsPolicy')) confineExecutionRole(handler, logGroup);
  }

  private acknowledgeFindings(scopedArns: readonly string[]): void {
    const stack = Stack.of(this);
    const wildcardClusters = scopedArns.map((arn) => `AwsSolutions-IAM5[Resource::${stack.resolve(arn)}]`);
    const clustersReason =
      "Cluster ARNs end in '*': CloudFormation generates the clusters' identifiers, and no stack here can name the clusters of the jurisdiction's other regions; each pattern is held to one region of this jurisdiction and this account. The pattern of this stack's own region stands for a cluster whose ARN is known here (the promotion target); it is there because one list is built from all the jurisdiction's regions.";
    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "CDK's grants for the workflow's logging (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets), all on '*': the log-delivery and X-Ray actions take no resource (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html); the three resource-policy and log-group actions could be held to this region and account, which CDK's StateMachine does not do. Every RDS, Route 53 and Lambda action is on ARNs of this jurisdiction's resources.",
    });
    for (const id of wildcardClusters) Validations.of(role).acknowledge({ id, reason: clustersReason });

    // CDK makes one cross-region SDK handler per stack, named after its purpose and uuid.
    const handler = stack.node.tryFindChild(CROSS_REGION_HANDLER_ID) as lambda.Function | undefined;
    if (!handler) return;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(handler.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: "Invoking any version of CDK's cross-region SDK handler, the one function this workflow calls.",
    });
    const handlerRole = handler.role as iam.Role;
    for (const id of wildcardClusters) Validations.of(handlerRole).acknowledge({ id, reason: clustersReason });
    Validations.of(handler.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'It calls the RDS API of another region, which no VPC endpoint in this region serves; it touches no data store and holds no data.',
    });
  }
}

/** Throttling or a passing error of a read must not end a promotion half way. */
function withRetries<T extends tasks.CallAwsService>(task: T): T {
  task.addRetry({ errors: ['States.ALL'], maxAttempts: 5, interval: Duration.seconds(2), backoffRate: 2 });
  return task;
}
