import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { residencyReport } from '../../../lib/compliance/residency-report';
import { isEuRegion } from '../../../lib/config/regions';
import { resolveTopology, type Topology } from '../../../lib/config/topology';
import { EdgeAccessLogs } from '../../../lib/edge/edge-access-logs';
import { createApp } from '../../support/platform';

let assembly: CloudAssembly;
let topology: Topology;
// One synthesis of the default app (seconds on 2 cores), shared by the tests that read it;
// the edge stack turns its logs on itself (EdgeAccessLogs).
beforeAll(() => {
  const created = createApp();
  topology = created.topology;
  expect(created.platform.edge.node.tryFindChild('AccessLogs')).toBeInstanceOf(EdgeAccessLogs);
  assembly = created.app.synth();
});

/** A cloud assembly of the given stacks (name, region, resources) written to a temporary folder. */
function withAssembly(stacks: [string, string, Record<string, unknown>][], check: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'residency-'));
  try {
    const artifacts = Object.fromEntries(
      stacks.map(([name, region]) => [
        name,
        {
          type: 'aws:cloudformation:stack',
          environment: `aws://123456789012/${region}`,
          properties: { templateFile: `${name}.template.json` },
        },
      ]),
    );
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ artifacts }));
    for (const [name, , resources] of stacks) {
      writeFileSync(path.join(dir, `${name}.template.json`), JSON.stringify({ Resources: resources }));
    }
    check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the default topology: every EU data-bearing resource and copy is in an EU region', () => {
  const report = residencyReport(assembly.directory, topology);
  const eu = report.resources.filter((r) => r.jurisdiction === 'eu');
  expect(new Set(eu.map((r) => r.region))).toEqual(new Set(['eu-west-1', 'eu-central-1']));
  expect(eu.flatMap((r) => r.replicatesTo).every(isEuRegion)).toBe(true);
  expect(eu.map((r) => r.type)).toEqual(
    expect.arrayContaining(['AWS::DynamoDB::GlobalTable', 'AWS::RDS::GlobalCluster', 'AWS::Cognito::UserPool']),
  );
  const table = eu.find((r) => r.type === 'AWS::DynamoDB::GlobalTable');
  expect([table?.region, table?.replicatesTo]).toEqual(['eu-central-1', ['eu-west-1']]);
  expect(report.violations).toEqual([]);
  expect(report.text).toContain('eu (residency: eu; regions: eu-west-1, eu-central-1)');
  expect(report.text).toContain('No residency violations.');
});

test('an EU table copied to the US is reported as a violation', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'residency-'));
  try {
    writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          'Commerce-eu-central-1-Stateful': {
            type: 'aws:cloudformation:stack',
            environment: 'aws://123456789012/eu-central-1',
            properties: { templateFile: 'eu.template.json' },
          },
        },
      }),
    );
    writeFileSync(
      path.join(dir, 'eu.template.json'),
      JSON.stringify({
        Resources: {
          Table: {
            Type: 'AWS::DynamoDB::GlobalTable',
            Properties: {
              TableName: 'Commerce-eu-eventual',
              Replicas: [{ Region: 'eu-central-1' }, { Region: 'us-east-1' }],
            },
          },
        },
      }),
    );
    const report = residencyReport(dir, resolveTopology({}, 'test'));
    expect(report.violations).toEqual([
      'eu: Commerce-eu-central-1-Stateful/Table (AWS::DynamoDB::GlobalTable) reaches us-east-1, outside the EU',
    ]);
    expect(report.text).toContain('VIOLATIONS (1)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an assembly synthesized with another topology is refused, not misfiled', () => {
  const other = resolveTopology(
    {
      jurisdictions: [
        { name: 'global', residency: 'none', primaryRegion: 'us-east-1', regions: ['us-east-1', 'ap-southeast-1'] },
        { name: 'eu', residency: 'eu', primaryRegion: 'eu-west-3', regions: ['eu-west-3', 'eu-north-1'] },
      ],
    },
    'test',
  );
  expect(() => residencyReport(assembly.directory, other)).toThrow(
    'stack Commerce-eu-west-1-Stateful is in eu-west-1, which the topology does not serve',
  );
});

test('with the edge logs on, log destinations are listed per jurisdiction, and the EU\u2019s are all in the EU', () => {
  const report = residencyReport(assembly.directory, topology);
  const edgeLogs = report.logDestinations.filter((d) => d.stack === 'Commerce-EdgeLogs');
  // CloudFront and WAF logs carry every jurisdiction's shoppers: both buckets are in the EU's primary region.
  expect(
    edgeLogs.map((d) => [d.region, d.type, d.jurisdictions, d.receives.map((r) => r.split(' (')[0])]).sort(),
  ).toEqual([
    ['eu-west-1', 'AWS::S3::Bucket', ['global', 'eu'], ['CloudFront standard logs']],
    ['eu-west-1', 'AWS::S3::Bucket', ['global', 'eu'], ['WAF logs']],
  ]);
  const eu = report.logDestinations.filter((d) => d.jurisdictions.includes('eu'));
  // The EU regions' own streams: API access logs and flow logs at least, each in its region.
  expect(eu.flatMap((d) => d.receives.map((r) => r.split(' (')[0]))).toEqual(
    expect.arrayContaining(['API access logs', 'VPC flow logs', 'CloudFront standard logs', 'WAF logs']),
  );
  expect(eu.every((d) => isEuRegion(d.region))).toBe(true);
  // The global jurisdiction's own streams stay in its regions; only the edge's reach the EU.
  const globalOnly = report.logDestinations.filter((d) => !d.jurisdictions.includes('eu'));
  expect(new Set(globalOnly.map((d) => d.region))).toEqual(new Set(['us-east-1', 'ap-southeast-1']));
  expect(report.violations).toEqual([]);
  expect(report.text).toContain("Log destinations, by the jurisdiction whose shoppers' entries they receive");
  expect(report.text).toMatch(
    / {4}eu-west-1 +AWS::S3::Bucket +Commerce-EdgeLogs\/EdgeLogsWafLogs\w+\n {6}<- WAF logs \(Commerce-Edge\//,
  );
});

test('a US bucket receiving the edge\u2019s WAF logs is a violation of the EU', () => {
  withAssembly(
    [
      [
        'Commerce-Edge',
        'us-east-1',
        {
          Acl: { Type: 'AWS::WAFv2::WebACL', Properties: { Scope: 'CLOUDFRONT' } },
          Logging: {
            Type: 'AWS::WAFv2::LoggingConfiguration',
            Properties: {
              ResourceArn: { 'Fn::GetAtt': ['Acl', 'Arn'] },
              LogDestinationConfigs: ['arn:aws:s3:::aws-waf-logs-central'],
            },
          },
        },
      ],
      [
        'Commerce-us-east-1-Stateful',
        'us-east-1',
        {
          Central: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'aws-waf-logs-central' } },
        },
      ],
    ],
    (dir) => {
      const report = residencyReport(dir, resolveTopology({}, 'test'));
      expect(report.violations).toEqual([
        'eu: log destination Commerce-us-east-1-Stateful/Central (AWS::S3::Bucket) is in us-east-1, outside the EU; it receives WAF logs (Commerce-Edge/Acl)',
      ]);
      expect(report.text).toContain('VIOLATIONS (1)');
    },
  );
});
