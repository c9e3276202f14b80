import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { IPolicyValidationContextBeta1 } from 'aws-cdk-lib';
import { ControlTowerChecks } from '../../../lib/compliance/control-tower-checks';

/**
 * The plugin on small templates, with cfn-guard for real: what it finds, where it says it
 * found it, and what its verdict cache does and does not reuse.
 */
let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'control-tower-checks-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const HASH = 'a'.repeat(64);

function template(name: string, resources: Record<string, unknown>): string {
  const file = path.join(work, `${name}.template.json`);
  writeFileSync(file, JSON.stringify({ Resources: resources }));
  return file;
}

function check(plugin: ControlTowerChecks, templatePaths: string[]) {
  return plugin.validate({ templatePaths } as unknown as IPolicyValidationContextBeta1);
}

/** A function in a VPC whose subnet and security group are in the same template. */
const functionInVpc = (codeHash: string) => ({
  Fn: {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Code: { S3Bucket: 'assets', S3Key: `${codeHash}.zip` },
      Role: 'arn:aws:iam::123456789012:role/r',
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      VpcConfig: { SubnetIds: [{ Ref: 'Subnet' }], SecurityGroupIds: [{ 'Fn::GetAtt': ['Sg', 'GroupId'] }] },
    },
  },
  Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: 'vpc-1', CidrBlock: '10.0.0.0/24' } },
  Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'fn', VpcId: 'vpc-1' } },
});

describe('ControlTowerChecks', () => {
  test('given a bucket open to the public, it reports the rule on that bucket of that template, as an error', () => {
    // given
    const cacheDir = path.join(work, 'cache');
    const file = template('Open', { Bucket: { Type: 'AWS::S3::Bucket', Properties: {} } });
    // when
    const report = check(new ControlTowerChecks({ cacheDir }), [file]);
    // then
    expect(report.success).toBe(false);
    const publicAccess = report.violations.find(
      (violation) => violation.ruleName === 's3_bucket_level_public_access_prohibited_check',
    );
    expect(publicAccess?.severity).toBe('error');
    expect(publicAccess?.violatingResources).toEqual([
      expect.objectContaining({ resourceLogicalId: 'Bucket', templatePath: file }),
    ]);
  });

  test('a subnet reached through a reference is seen in the slice: a function in a VPC is compliant', () => {
    // given
    const file = template('InVpc', functionInVpc(HASH));
    // when
    const report = check(new ControlTowerChecks({ cacheDir: path.join(work, 'cache') }), [file]);
    // then
    expect(report.violations.map((violation) => violation.ruleName)).not.toContain('lambda_inside_vpc_check');
  });

  test('a verdict is reused for a template that differs only in asset hashes, and only then', () => {
    // given
    const cacheDir = path.join(work, 'cache');
    const plugin = new ControlTowerChecks({ cacheDir });
    const first = template('First', { ...functionInVpc(HASH), Open: { Type: 'AWS::S3::Bucket' } });
    const firstReport = check(plugin, [first]);
    const verdicts = () => readdirSync(cacheDir).filter((name) => name.endsWith('.verdict.json'));
    expect(verdicts()).toHaveLength(1);
    // when: only the function's code moved
    const rebundled = template('Rebundled', { ...functionInVpc('b'.repeat(64)), Open: { Type: 'AWS::S3::Bucket' } });
    const rebundledReport = check(plugin, [rebundled]);
    // then: the same findings, reported on the new template, from the one verdict
    expect(verdicts()).toHaveLength(1);
    expect(rebundledReport.violations.map((violation) => violation.ruleName).sort()).toEqual(
      firstReport.violations.map((violation) => violation.ruleName).sort(),
    );
    const paths = rebundledReport.violations.flatMap((violation) =>
      violation.violatingResources.map((r) => r.templatePath),
    );
    expect(new Set(paths)).toEqual(new Set([rebundled]));
    // when: anything else changed
    const changed = template('Changed', { ...functionInVpc(HASH) });
    check(plugin, [changed]);
    // then: checked again
    expect(verdicts()).toHaveLength(2);
  });

  test('a template no rule applies to has no findings, and several templates are checked in one call', () => {
    // given
    const cacheDir = path.join(work, 'cache');
    const quiet = template('Quiet', {
      Param: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v' } },
    });
    const open = template('Open', { Bucket: { Type: 'AWS::S3::Bucket', Properties: {} } });
    // when
    const report = check(new ControlTowerChecks({ cacheDir }), [quiet, open]);
    // then
    const paths = report.violations.flatMap((violation) => violation.violatingResources.map((r) => r.templatePath));
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths)).toEqual(new Set([open]));
    expect(existsSync(cacheDir)).toBe(true);
  });
});
