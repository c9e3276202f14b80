import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { edgeStackName } from '../config/names';
import { isEuRegion } from '../config/regions';
import type { Topology } from '../config/topology';
import { edgeLogsStackName } from '../edge/edge-access-logs';
import { regionsIn, residencyScopeOf } from './data-residency-checks';

/** Resource types that hold or carry customer data. */
const DATA_BEARING = new Set([
  'AWS::DynamoDB::GlobalTable',
  'AWS::DynamoDB::Table',
  'AWS::RDS::GlobalCluster',
  'AWS::RDS::DBCluster',
  'AWS::ElastiCache::ServerlessCache',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::ElastiCache::GlobalReplicationGroup',
  'AWS::S3::Bucket',
  'AWS::Logs::LogGroup',
  'AWS::Cognito::UserPool',
  'AWS::SecretsManager::Secret',
  'AWS::KMS::Key',
  'AWS::SQS::Queue',
  'AWS::SNS::Topic',
  'AWS::Kinesis::Stream',
]);

export interface ReportedResource {
  readonly jurisdiction: string;
  readonly stack: string;
  readonly region: string;
  readonly logicalId: string;
  readonly type: string;
  /** Other regions the data is copied to. */
  readonly replicatesTo: readonly string[];
  /** The Aurora global cluster the resource belongs to, if any. */
  readonly globalCluster?: string;
}

/** A bucket, log group or stream that log streams are delivered to. */
export interface ReportedLogDestination {
  /** The jurisdictions whose shoppers' entries it receives (every one, for the edge's logs). */
  readonly jurisdictions: readonly string[];
  /** Its stack, or `?` when nothing in the assembly creates it. */
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** Its region, or `unknown` when it cannot be told. */
  readonly region: string;
  /** What is delivered there, one entry per stream: kind and source (`stack/logicalId`). */
  readonly receives: readonly string[];
}

export interface ResidencyReport {
  readonly resources: readonly ReportedResource[];
  readonly logDestinations: readonly ReportedLogDestination[];
  /** One line per EU-pinned resource found, or copied, outside the EU, and per EU log destination outside it. */
  readonly violations: readonly string[];
  readonly text: string;
}

interface Manifest {
  readonly artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile?: string } }>;
}

/**
 * Reads a synthesized cloud assembly (`cdk.out`) and lists, per jurisdiction, every
 * data-bearing resource with its region and where it replicates, flagging anything of an
 * EU-pinned jurisdiction outside the EU. Stacks that serve no jurisdiction (the edge) are
 * listed under `edge`.
 */
export function residencyReport(assemblyDir: string, topology: Topology): ResidencyReport {
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as Manifest;
  const scope = residencyScopeOf(topology);
  const resources: ReportedResource[] = [];
  const stacks: AssemblyStack[] = [];
  for (const [stack, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const region = artifact.environment?.split('/').at(-1);
    if (region === undefined) throw new Error(`stack ${stack} has no environment in the cloud assembly manifest`);
    const template = JSON.parse(readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'));
    const isEdge = stack === edgeStackName(topology.config.appName);
    const servesRegion = topology.servingRegions.includes(region as never) && !isEdge;
    stacks.push({ name: stack, region, template, isEdge });
    // The edge's log buckets sit in a serving region (the EU's primary) or, with no EU
    // jurisdiction, in the edge's.
    if (!isEdge && !servesRegion && stack !== edgeLogsStackName(topology.config.appName)) {
      // Reading an assembly with another topology would file its data under "edge".
      throw new Error(
        `stack ${stack} is in ${region}, which the topology does not serve: synthesize and report with the same config`,
      );
    }
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {}) as [string, any][]) {
      if (!DATA_BEARING.has(resource.Type)) continue;
      const props = resource.Properties ?? {};
      let jurisdiction = servesRegion && !isEdge ? topology.jurisdictionOf(region).name : 'edge';
      // Data that names an EU-pinned store belongs to that jurisdiction wherever it sits.
      const euIndex = Math.max(
        scope.euTableNames.indexOf(props.TableName),
        scope.euGlobalClusters.indexOf(props.GlobalClusterIdentifier),
      );
      if (euIndex >= 0)
        jurisdiction = topology.jurisdictions.filter((j) => j.residency === 'eu')[euIndex]?.name as string;
      const replicatesTo = new Set<string>();
      for (const replica of props.Replicas ?? []) if (replica.Region) replicatesTo.add(replica.Region);
      for (const member of props.Members ?? [])
        if (member.ReplicationGroupRegion) replicatesTo.add(member.ReplicationGroupRegion);
      if (props.ReplicationConfiguration)
        for (const r of regionsIn(props.ReplicationConfiguration.Rules, region)) replicatesTo.add(r);
      replicatesTo.delete(region);
      const globalCluster =
        typeof props.GlobalClusterIdentifier === 'string' ? props.GlobalClusterIdentifier : undefined;
      resources.push({
        jurisdiction,
        stack,
        region,
        logicalId,
        type: resource.Type,
        replicatesTo: [...replicatesTo].sort(),
        ...(globalCluster ? { globalCluster } : {}),
      });
    }
  }
  // Members of one Aurora global cluster copy to each other: list the other members' regions.
  const members = new Map<string, Set<string>>();
  for (const r of resources) {
    const id = r.globalCluster;
    if (id) members.set(id, (members.get(id) ?? new Set()).add(r.region));
  }
  for (const [index, r] of resources.entries()) {
    if (!r.globalCluster) continue;
    const others = [...(members.get(r.globalCluster) ?? [])].filter((region) => region !== r.region);
    resources[index] = { ...r, replicatesTo: [...new Set([...r.replicatesTo, ...others])].sort() };
  }
  const violations: string[] = [];
  const pinned = (name: string) => topology.jurisdictions.find((j) => j.name === name)?.residency === 'eu';
  for (const r of resources) {
    const outside = [r.region, ...r.replicatesTo].filter((region) => !isEuRegion(region));
    if (pinned(r.jurisdiction) && outside.length) {
      violations.push(
        `${r.jurisdiction}: ${r.stack}/${r.logicalId} (${r.type}) reaches ${outside.join(', ')}, outside the EU`,
      );
    }
  }
  const logDestinations = logDestinationsOf(stacks, topology);
  for (const d of logDestinations) {
    const eu = d.jurisdictions.filter(pinned);
    if (eu.length && !isEuRegion(d.region)) {
      violations.push(
        `${eu.join(', ')}: log destination ${d.stack}/${d.logicalId} (${d.type}) is in ${d.region}, outside the EU; it receives ${d.receives.join('; ')}`,
      );
    }
  }
  return { resources, logDestinations, violations, text: render(topology, resources, logDestinations, violations) };
}

interface AssemblyStack {
  readonly name: string;
  readonly region: string;
  readonly template: { Resources?: Record<string, { Type: string; Properties?: any }> };
  readonly isEdge: boolean;
}

interface Located {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly region: string;
}

const BUCKET_ARN = /^arn:[a-z-]+:s3:::([a-z0-9.-]+)(?:\/.*)?$/;
const LOG_GROUP_ARN = /^arn:[a-z-]+:logs:([a-z0-9-]+):[^:]*:log-group:([^:]+)(?::\*)?$/;

/** The literal text of a value: a string, or an `Fn::Join` of literals and pseudo-parameters. */
function textOf(value: unknown, region: string): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (!Array.isArray(join) || !Array.isArray(join[1])) return undefined;
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': region };
  const parts = join[1].map((p) =>
    typeof p === 'string' ? p : (pseudo[(p as { Ref?: string }).Ref ?? ''] ?? '\u0000'),
  );
  return parts.join(join[0]);
}

/**
 * Every log stream of the assembly and where it is delivered, grouped by destination. A
 * stream of the edge stack carries every jurisdiction's shoppers; one of a regional stack,
 * its region's jurisdiction's.
 */
function logDestinationsOf(stacks: readonly AssemblyStack[], topology: Topology): ReportedLogDestination[] {
  const named = new Map<string, Located>();
  for (const s of stacks) {
    for (const [logicalId, r] of Object.entries(s.template.Resources ?? {})) {
      const name = r.Properties?.BucketName ?? r.Properties?.LogGroupName;
      if (typeof name !== 'string') continue;
      if (r.Type === 'AWS::S3::Bucket')
        named.set(`bucket/${name}`, { stack: s.name, logicalId, type: r.Type, region: s.region });
      if (r.Type === 'AWS::Logs::LogGroup')
        named.set(`log-group/${s.region}/${name}`, { stack: s.name, logicalId, type: r.Type, region: s.region });
    }
  }
  const everyone = topology.jurisdictions.map((j) => j.name);
  const byDestination = new Map<string, { at: Located; jurisdictions: Set<string>; receives: Set<string> }>();

  for (const s of stacks) {
    const resources = s.template.Resources ?? {};
    // The edge's own buckets and functions log CloudFront's and AWS's requests, not shoppers'.
    const regional =
      !s.isEdge && topology.servingRegions.includes(s.region as never)
        ? [topology.jurisdictionOf(s.region as never).name]
        : [];
    const locate = (value: unknown, kind: string): Located => {
      const ref = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | null;
      const id = typeof ref?.Ref === 'string' ? ref.Ref : ref?.['Fn::GetAtt']?.[0];
      const inStack = typeof id === 'string' ? resources[id] : undefined;
      if (typeof id === 'string' && inStack)
        return { stack: s.name, logicalId: id, type: inStack.Type, region: s.region };
      const text = textOf(value, s.region);
      const bucket = text === undefined ? undefined : BUCKET_ARN.exec(text)?.[1];
      if (bucket)
        return (
          named.get(`bucket/${bucket}`) ?? { stack: '?', logicalId: bucket, type: 'AWS::S3::Bucket', region: 'unknown' }
        );
      const group = text === undefined ? undefined : LOG_GROUP_ARN.exec(text);
      if (group?.[1] && group[2])
        return (
          named.get(`log-group/${group[1]}/${group[2]}`) ?? {
            stack: '?',
            logicalId: group[2],
            type: 'AWS::Logs::LogGroup',
            region: group[1],
          }
        );
      // A log group given by name only is in the stack's own region.
      if (kind === 'log-group-name' && text !== undefined)
        return (
          named.get(`log-group/${s.region}/${text}`) ?? {
            stack: '?',
            logicalId: text,
            type: 'AWS::Logs::LogGroup',
            region: s.region,
          }
        );
      const regions = [...regionsIn(value, s.region)];
      return {
        stack: '?',
        logicalId: JSON.stringify(value),
        type: 'unknown',
        region: regions.length === 1 ? (regions[0] as string) : 'unknown',
      };
    };
    const add = (target: unknown, receives: string, kind = 'arn', jurisdictions = regional) => {
      if (target === undefined || target === null) return;
      const at = locate(target, kind);
      const key = `${at.stack}/${at.logicalId}/${at.region}`;
      const entry = byDestination.get(key) ?? { at, jurisdictions: new Set<string>(), receives: new Set<string>() };
      for (const j of jurisdictions) entry.jurisdictions.add(j);
      entry.receives.add(receives);
      byDestination.set(key, entry);
    };
    const byName = (type: string, name: unknown) =>
      Object.entries(resources).find(([, r]) => r.Type === type && r.Properties?.Name === name);

    for (const [logicalId, r] of Object.entries(resources)) {
      const p = r.Properties ?? {};
      const source = `${s.name}/${logicalId}`;
      switch (r.Type) {
        case 'AWS::Logs::Delivery': {
          const [sourceId, deliverySource] = byName('AWS::Logs::DeliverySource', p.DeliverySourceName) ?? [];
          const destinationId = p.DeliveryDestinationArn?.['Fn::GetAtt']?.[0];
          const destination = typeof destinationId === 'string' ? resources[destinationId] : undefined;
          const what = JSON.stringify(deliverySource?.Properties?.ResourceArn ?? '').includes(':cloudfront::')
            ? 'CloudFront standard logs'
            : `${deliverySource?.Properties?.LogType ?? 'logs'}`;
          const global = what.startsWith('CloudFront');
          add(
            destination?.Properties?.DestinationResourceArn ?? null,
            `${what} (${s.name}/${sourceId ?? logicalId})`,
            'arn',
            global ? everyone : regional,
          );
          break;
        }
        case 'AWS::WAFv2::LoggingConfiguration':
          for (const target of p.LogDestinationConfigs ?? []) {
            const acl = p.ResourceArn?.['Fn::GetAtt']?.[0];
            const global =
              resources[acl]?.Properties?.Scope === 'CLOUDFRONT' || JSON.stringify(p.ResourceArn).includes('/global/');
            add(target, `WAF logs (${s.name}/${acl ?? logicalId})`, 'arn', global ? everyone : regional);
          }
          break;
        case 'AWS::CloudFront::Distribution':
          add(p.DistributionConfig?.Logging?.Bucket, `CloudFront standard logs, legacy (${source})`, 'arn', everyone);
          break;
        case 'AWS::ApiGatewayV2::Stage':
        case 'AWS::ApiGateway::Stage':
          add(p.AccessLogSettings?.DestinationArn, `API access logs (${source})`);
          break;
        case 'AWS::EC2::FlowLog':
          if (p.LogDestination) add(p.LogDestination, `VPC flow logs (${source})`);
          else add(p.LogGroupName, `VPC flow logs (${source})`, 'log-group-name');
          break;
        case 'AWS::Lambda::Function':
          add(p.LoggingConfig?.LogGroup, `function logs (${source})`, 'log-group-name');
          break;
        case 'AWS::StepFunctions::StateMachine':
          for (const d of p.LoggingConfiguration?.Destinations ?? [])
            add(d.CloudWatchLogsLogGroup?.LogGroupArn, `execution logs (${source})`);
          break;
        case 'AWS::S3::Bucket':
          add(p.LoggingConfiguration?.DestinationBucketName, `S3 server access logs (${source})`);
          break;
      }
    }
  }
  return [...byDestination.values()].map(({ at, jurisdictions, receives }) => ({
    ...at,
    jurisdictions: everyone.filter((j) => jurisdictions.has(j)),
    receives: [...receives].sort(),
  }));
}

function render(
  topology: Topology,
  resources: readonly ReportedResource[],
  logDestinations: readonly ReportedLogDestination[],
  violations: readonly string[],
): string {
  const lines: string[] = [];
  const groups = [...topology.jurisdictions.map((j) => j.name), 'edge'];
  for (const name of groups) {
    const j = topology.jurisdictions.find((x) => x.name === name);
    const rows = resources.filter((r) => r.jurisdiction === name);
    if (!rows.length) continue;
    lines.push(
      j
        ? `${name} (residency: ${j.residency}; regions: ${j.regions.join(', ')})`
        : 'edge (global services; no jurisdiction data at rest)',
    );
    for (const r of rows.sort((a, b) =>
      (a.region + a.type + a.logicalId).localeCompare(b.region + b.type + b.logicalId),
    )) {
      const copies = r.replicatesTo.length ? `  -> ${r.replicatesTo.join(', ')}` : '';
      lines.push(`  ${r.region.padEnd(15)} ${r.type.padEnd(36)} ${r.logicalId}${copies}`);
    }
    lines.push('');
  }
  lines.push("Log destinations, by the jurisdiction whose shoppers' entries they receive (the edge's: every one's)");
  for (const j of topology.jurisdictions) {
    const rows = logDestinations.filter((d) => d.jurisdictions.includes(j.name));
    if (!rows.length) continue;
    lines.push(`  ${j.name} (residency: ${j.residency})`);
    for (const d of [...rows].sort((a, b) =>
      (a.region + a.stack + a.logicalId).localeCompare(b.region + b.stack + b.logicalId),
    )) {
      lines.push(`    ${d.region.padEnd(15)} ${d.type.padEnd(22)} ${d.stack}/${d.logicalId}`);
      for (const what of d.receives) lines.push(`      <- ${what}`);
    }
  }
  const noShoppers = logDestinations.filter((d) => d.jurisdictions.length === 0);
  if (noShoppers.length)
    lines.push(`  none (no shoppers' entries): ${noShoppers.length} destinations of the edge's own logs`);
  lines.push('');
  lines.push(
    violations.length
      ? `VIOLATIONS (${violations.length}):\n${violations.map((v) => `  ${v}`).join('\n')}`
      : 'No residency violations.',
  );
  return lines.join('\n');
}
