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

/** A resource with its properties read loosely, the way assertions read them. */
export interface LooseResource {
  readonly Type: string;
  readonly Properties: Props;
  readonly DeletionPolicy?: string;
}

const loose = (resource: Resources[string]): LooseResource => ({ ...resource, Properties: resource.Properties ?? {} });

/** The one resource among `resources` whose logical id starts with `prefix`: its id and properties. */
export function only(resources: Resources, prefix: string): [string, Props] {
  return onlyWhere(resources, `${prefix}*`, (id) => id.startsWith(prefix));
}

/** The one resource among `resources` that `matches` (`what` names it): its id and properties. */
export function onlyWhere(
  resources: Resources,
  what: string,
  matches: (id: string, properties: Props) => boolean,
): [string, Props] {
  const found = Object.entries(resources).filter(([id, resource]) => matches(id, resource.Properties ?? {}));
  const [match] = found;
  if (!match || found.length !== 1) throw new Error(`expected one resource ${what}, found ${found.map(([id]) => id)}`);
  const [id, resource] = match;
  return [id, resource.Properties ?? {}];
}

/** The one resource of `type` in `template`, with its logical id; none or several fail the test. */
export function onlyOfType(template: Template, type: string): [string, LooseResource] {
  const matches = Object.entries(resourcesOf(template, type));
  const [match] = matches;
  if (!match || matches.length !== 1) throw new Error(`expected one ${type}, found ${matches.map(([id]) => id)}`);
  const [id, resource] = match;
  return [id, loose(resource)];
}

/** The resource with logical id `id` among `resources`; a missing one fails the test. */
export function resourceById(resources: Resources, id: string): LooseResource {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id}; have ${Object.keys(resources).join(', ')}`);
  return loose(resource);
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

/** The environment variables of an `AWS::Lambda::Function` resource ({} when it has none). */
export function variablesOf(
  fn: { readonly Properties?: Record<string, unknown> } | undefined,
): Record<string, unknown> {
  const environment = fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

/**
 * Resource types whose replacement loses data or breaks clients. Their logical ids are a
 * contract: changing one makes CloudFormation create a new resource and orphan or delete
 * the old one.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  'AWS::DynamoDB::GlobalTable',
  'AWS::RDS::GlobalCluster',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::KMS::Key',
  'AWS::Cognito::UserPool',
  'AWS::SecretsManager::Secret',
  'AWS::EC2::VPC',
  'AWS::S3::Bucket',
]);
