import type { Template } from 'aws-cdk-lib/assertions';

export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

export function resourcesOf(template: Template, type?: string): Resources {
  const all = template.toJSON().Resources as Resources;
  if (!type) return all;
  return Object.fromEntries(Object.entries(all).filter(([, resource]) => resource.Type === type));
}

/** Ingress rules of a security group defined in the same template: inline and standalone. */
export function ingressSourcesOf(template: Template, groupId: string) {
  const group = resourcesOf(template)[groupId];
  const inline = ((group?.Properties?.SecurityGroupIngress as any[]) ?? []).map((rule) => rule);
  const standalone = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
    .filter(
      (rule) => JSON.stringify(rule.Properties?.GroupId) === JSON.stringify({ 'Fn::GetAtt': [groupId, 'GroupId'] }),
    )
    .map((rule) => rule.Properties as any);
  return [...inline, ...standalone].map((rule) => ({
    source: rule.SourceSecurityGroupId?.['Fn::GetAtt']?.[0] ?? rule.CidrIp,
    from: rule.FromPort,
    to: rule.ToPort,
  }));
}

type Props = Record<string, any>;

/** The one resource among `resources` whose logical id starts with `prefix`: its id and properties. */
export function only(resources: Resources, prefix: string): [string, Props] {
  const matches = Object.entries(resources).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one resource ${prefix}*, found ${matches.map(([id]) => id)}`);
  const [id, resource] = matches[0] as [string, { Properties?: Props }];
  return [id, resource.Properties ?? {}];
}

/** Every metric an alarm reads, whether it has one metric or a math expression. */
export function metricsOf(
  alarm: Props,
): { namespace: string; name: string; dims: Record<string, unknown>; stat?: string }[] {
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
