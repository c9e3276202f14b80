import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { edgeStackName } from '../config/names';
import { isEuRegion } from '../config/regions';
import type { Topology } from '../config/topology';
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

export interface ResidencyReport {
  readonly resources: readonly ReportedResource[];
  /** One line per EU-pinned resource found, or copied, outside the EU. */
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
  for (const [stack, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const region = artifact.environment?.split('/').at(-1);
    if (region === undefined) throw new Error(`stack ${stack} has no environment in the cloud assembly manifest`);
    const template = JSON.parse(readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'));
    const isEdge = stack === edgeStackName(topology.config.appName);
    const servesRegion = topology.servingRegions.includes(region as never) && !isEdge;
    if (!isEdge && !servesRegion) {
      // Reading an assembly with another topology would file its data under "edge".
      throw new Error(
        `stack ${stack} is in ${region}, which the topology does not serve: synthesize and report with the same config`,
      );
    }
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {}) as [string, any][]) {
      if (!DATA_BEARING.has(resource.Type)) continue;
      const props = resource.Properties ?? {};
      let jurisdiction = servesRegion ? topology.jurisdictionOf(region).name : 'edge';
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
  for (const r of resources) {
    const pinned = topology.jurisdictions.find((j) => j.name === r.jurisdiction)?.residency === 'eu';
    const outside = [r.region, ...r.replicatesTo].filter((region) => !isEuRegion(region));
    if (pinned && outside.length) {
      violations.push(
        `${r.jurisdiction}: ${r.stack}/${r.logicalId} (${r.type}) reaches ${outside.join(', ')}, outside the EU`,
      );
    }
  }
  return { resources, violations, text: render(topology, resources, violations) };
}

function render(topology: Topology, resources: readonly ReportedResource[], violations: readonly string[]): string {
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
  lines.push(
    violations.length
      ? `VIOLATIONS (${violations.length}):\n${violations.map((v) => `  ${v}`).join('\n')}`
      : 'No residency violations.',
  );
  return lines.join('\n');
}
