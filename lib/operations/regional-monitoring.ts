import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmThresholds } from '../config/topology';

/** The alarms every region has, by the name tests, drills and the runbook use. */
export const REGIONAL_ALARMS = [
  'Api5xxRate',
  'ApiP99Latency',
  'FunctionErrors',
  'FunctionThrottles',
  'AuroraReplicationLag',
  'CacheThrottling',
  'ProxyConnections',
] as const;
export type RegionalAlarmName = (typeof REGIONAL_ALARMS)[number] | `ReplicationLatencyTo-${string}` | `Canary${string}`;

export interface RegionalMonitoringProps {
  /** Encrypts the alarm topic; its policy must let CloudWatch use it (see `OperationsKey`). */
  readonly encryptionKey: kms.IKey;
  /** Prefix of the dashboard name and of alarm descriptions. */
  readonly appName: string;
  readonly jurisdiction: string;
  readonly thresholds: AlarmThresholds;
  /** The region's public HTTP API. */
  readonly httpApi: apigwv2.IHttpApi;
  /** Every function of the region, by the name shown on the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The jurisdiction's global table, by its fixed name. */
  readonly eventualTableName: string;
  /** Regions that receive this region's table writes: one replication alarm each. */
  readonly replicaRegions: readonly string[];
  /** Identifier of this region's Aurora cluster of the global database. */
  readonly strongStoreClusterIdentifier: string;
  /** Name of the region's serverless cache. */
  readonly cacheName: string;
  /** Name of the region's RDS Proxy. */
  readonly databaseProxyName: string;
  /**
   * Addresses subscribed to the alarm topic.
   * @default none
   */
  readonly alarmEmails?: readonly string[];
}

/**
 * What the on-call engineer watches in one region: an alarm per failure signal, all
 * publishing to one encrypted SNS topic, and a dashboard with the same signals.
 *
 * Thresholds come from the topology (`operations.alarmThresholds`). Alarms on signals
 * that only some regions emit — Aurora lag exists only where the cluster is a secondary,
 * which changes with every switchover — treat missing data as not breaching.
 */
export class RegionalMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: ReadonlyMap<RegionalAlarmName, cloudwatch.Alarm>;
  private readonly alarmsByName = new Map<RegionalAlarmName, cloudwatch.Alarm>();
  private readonly evaluationPeriods: number;
  private readonly canarySuccessPercent: number;

  constructor(scope: Construct, id: string, props: RegionalMonitoringProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const t = props.thresholds;
    this.alarms = this.alarmsByName;
    this.evaluationPeriods = t.evaluationPeriods;
    this.canarySuccessPercent = t.canarySuccessPercent;

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.appName} ${region} alarms`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // Only this region's alarms publish here, so `DataResidency-SendsOutsideEU` does not count
    // the mailboxes as a destination of EU data: an alarm notification holds no customer data.
    for (const email of props.alarmEmails ?? []) {
      new sns.Subscription(this.topic, email, {
        topic: this.topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: email,
      });
    }

    const metrics = regionalMetrics(props);
    this.addAlarms(metrics, props.thresholds);
    this.dashboard = this.addDashboard(props, metrics);
  }

  private addAlarms(metrics: RegionalMetrics, thresholds: RegionalMonitoringProps['thresholds']): void {
    const t = thresholds;
    this.alarm('Api5xxRate', metrics.errorRate, t.api5xxPercent, `API 5xx above ${t.api5xxPercent}% of requests`);
    this.alarm('ApiP99Latency', metrics.p99, t.apiP99LatencyMs, `API p99 latency above ${t.apiP99LatencyMs} ms`);
    this.alarm(
      'FunctionErrors',
      metrics.functionErrors,
      t.lambdaErrors,
      `function errors at or above ${t.lambdaErrors}/min`,
    );
    this.alarm(
      'FunctionThrottles',
      metrics.functionThrottles,
      t.lambdaThrottles,
      `function throttles at or above ${t.lambdaThrottles}/min`,
    );
    for (const [receivingRegion, metric] of Object.entries(metrics.replicationLatency)) {
      this.alarm(
        `ReplicationLatencyTo-${receivingRegion}`,
        metric,
        t.replicationLatencyMs,
        `global-table replication to ${receivingRegion} slower than ${t.replicationLatencyMs} ms`,
      );
    }
    this.alarm(
      'AuroraReplicationLag',
      metrics.auroraLag,
      t.auroraReplicationLagMs,
      `Aurora global replication lag above ${t.auroraReplicationLagMs} ms`,
    );
    this.alarm(
      'CacheThrottling',
      metrics.cacheThrottled,
      t.cacheThrottledCommands,
      `cache throttled ${t.cacheThrottledCommands}+ commands/min`,
    );
    this.alarm(
      'ProxyConnections',
      metrics.proxyConnections,
      t.proxyConnectionsPercent,
      `RDS Proxy holds over ${t.proxyConnectionsPercent}% of its connections`,
    );
  }

  private addDashboard(props: RegionalMonitoringProps, metrics: RegionalMetrics): cloudwatch.Dashboard {
    const region = Stack.of(this).region;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Named: the runbook sends the on-call engineer to it by name.
      dashboardName: `${props.appName}-${region}`,
      defaultInterval: Duration.hours(3),
    });
    const perFunction = (metricOf: (fn: lambda.IFunction) => cloudwatch.Metric) =>
      metrics.functions.map(([name, fn]) => metricOf(fn).with({ label: name }));
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.appName} — ${region} (${props.jurisdiction})\nAlarms publish to the region's alarm topic; see docs/operations.md.`,
        width: 24,
        height: 2,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarmsByName.values()], width: 24 }),
      new cloudwatch.GraphWidget({ title: 'API requests', left: [metrics.requests], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'API 5xx %', left: [metrics.errorRate], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'API p99 latency', left: [metrics.p99], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: perFunction((fn) => fn.metricErrors({ period: metrics.minute })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: perFunction((fn) => fn.metricThrottles({ period: metrics.minute })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function p99 duration',
        left: perFunction((fn) => fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Replication: global table, Aurora',
        left: Object.values(metrics.replicationLatency),
        right: [metrics.auroraLag],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Saturation: cache, proxy',
        left: [metrics.cacheThrottled],
        right: [metrics.proxyConnections],
        width: 12,
      }),
    );
    return dashboard;
  }

  /** An alarm when a canary's runs succeed less than `canarySuccessPercent` of the time. */
  addCanaryAlarm(name: `Canary${string}`, successPercent: cloudwatch.IMetric): cloudwatch.Alarm {
    const threshold = this.canarySuccessPercent;
    const alarm = new cloudwatch.Alarm(this, name, {
      metric: successPercent,
      threshold,
      evaluationPeriods: this.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // A canary that stopped reporting is as alarming as one that fails.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `${Stack.of(this).region}: canary ${name} succeeded in under ${threshold}% of its runs. Runbook: docs/operations.md#canary`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarmsByName.set(name, alarm);
    return alarm;
  }

  /** The named alarm; throws if this region has no such alarm. */
  alarmNamed(name: RegionalAlarmName): cloudwatch.Alarm {
    const alarm = this.alarmsByName.get(name);
    if (!alarm)
      throw new Error(`${this.node.path}: no alarm ${name}; it has ${[...this.alarmsByName.keys()].join(', ')}`);
    return alarm;
  }

  private alarm(name: RegionalAlarmName, metric: cloudwatch.IMetric, threshold: number, what: string): void {
    const alarm = new cloudwatch.Alarm(this, name, {
      metric,
      threshold,
      evaluationPeriods: this.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${Stack.of(this).region}: ${what}. Runbook: docs/operations.md#${name.toLowerCase().replace(/-.*/, '')}`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarmsByName.set(name, alarm);
  }
}

/** The metrics the region's alarms and dashboard read. */
function regionalMetrics(props: RegionalMonitoringProps) {
  const minute = Duration.minutes(1);
  const requests = props.httpApi.metricCount({ period: minute, statistic: 'Sum' });
  const serverErrors = props.httpApi.metricServerError({ period: minute, statistic: 'Sum' });
  const errorRate = new cloudwatch.MathExpression({
    expression: 'IF(requests > 0, 100 * errors / requests, 0)',
    usingMetrics: { requests, errors: serverErrors },
    label: '5xx %',
    period: minute,
  });
  const p99 = props.httpApi.metricLatency({ period: Duration.minutes(5), statistic: 'p99', label: 'p99 ms' });
  const functions = Object.entries(props.functions);
  const sumOver = (label: string, metricOf: (fn: lambda.IFunction) => cloudwatch.Metric) =>
    new cloudwatch.MathExpression({
      expression: functions.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(functions.map(([, fn], i) => [`m${i}`, metricOf(fn)])),
      label,
      period: minute,
    });
  const functionErrors = sumOver('errors, all functions', (fn) => fn.metricErrors({ period: minute }));
  const functionThrottles = sumOver('throttles, all functions', (fn) => fn.metricThrottles({ period: minute }));

  const replicationLatency = Object.fromEntries(
    props.replicaRegions.map((receivingRegion) => [
      receivingRegion,
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName: 'ReplicationLatency',
        dimensionsMap: { TableName: props.eventualTableName, ReceivingRegion: receivingRegion },
        statistic: 'Average',
        period: minute,
        label: `to ${receivingRegion} (ms)`,
      }),
    ]),
  );
  const perMinute = (namespace: string, metricName: string, dimensionsMap: Record<string, string>) =>
    ({ namespace, metricName, dimensionsMap, period: minute }) satisfies cloudwatch.MetricProps;
  const auroraLag = new cloudwatch.Metric({
    ...perMinute('AWS/RDS', 'AuroraGlobalDBReplicationLag', {
      DBClusterIdentifier: props.strongStoreClusterIdentifier,
    }),
    statistic: 'Maximum',
    label: 'Aurora global lag (ms)',
  });
  const cacheThrottled = new cloudwatch.Metric({
    ...perMinute('AWS/ElastiCache', 'ThrottledCmds', { clusterId: props.cacheName }),
    statistic: 'Sum',
    label: 'throttled commands',
  });
  const proxyMetric = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: props.databaseProxyName },
      // Published per instance behind the proxy: the sum is the proxy's.
      statistic: 'Sum',
      period: minute,
    });
  const proxyConnections = new cloudwatch.MathExpression({
    expression: 'IF(allowed > 0, 100 * used / allowed, 0)',
    usingMetrics: {
      used: proxyMetric('DatabaseConnections'),
      allowed: proxyMetric('MaxDatabaseConnectionsAllowed'),
    },
    label: 'proxy connections %',
    period: minute,
  });

  return {
    minute,
    requests,
    errorRate,
    p99,
    functions,
    functionErrors,
    functionThrottles,
    replicationLatency,
    auroraLag,
    cacheThrottled,
    proxyConnections,
  };
}

type RegionalMetrics = ReturnType<typeof regionalMetrics>;
