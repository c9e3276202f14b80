import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { residencyReport } from '../../../lib/compliance/residency-report';
import { isEuRegion } from '../../../lib/config/regions';
import { resolveTopology, type Topology } from '../../../lib/config/topology';
import { createApp } from '../../support/platform';

let assembly: CloudAssembly;
let topology: Topology;
// One synthesis of the default app (seconds on 2 cores), shared by the tests that read it.
beforeAll(() => {
  const created = createApp();
  topology = created.topology;
  assembly = created.app.synth();
});

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
