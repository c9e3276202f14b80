import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataResidencyChecks } from '../../../lib/compliance/data-residency-checks';
import { PlatformChecks } from '../../../lib/compliance/platform-checks';
import { buildCanaryStacks, CANARY_REGION } from '../../support/canary-stacks';

// The compliance packs on the canary alone, wired as the platform would (see
// test/unit/operations/api-canary.test.ts for what the canary builds).
const REGION = CANARY_REGION;
const build = buildCanaryStacks;

describe('ApiCanary compliance', () => {
  test('AwsSolutions, Platform and DataResidency packs find nothing unacknowledged', () => {
    const { app } = build();
    const euScope = { euPinnedRegions: ['eu-west-1', REGION], euTableNames: [], euGlobalClusters: [] };
    const packs = [new AwsSolutionsChecks(app), new PlatformChecks(app), new DataResidencyChecks(euScope, app)];
    const reports = packs.map((pack) => pack.validateScope(app));
    const findings = reports.flatMap((report) =>
      report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${(r as { constructPath?: string }).constructPath}`),
      ),
    );
    expect(findings).toEqual([]);
  });

  test('synthesis with the Control Tower rules (cfn-guard) passes', () => {
    const { app } = build();
    Validations.of(app).addPlugins(new CfnGuardValidator());
    expect(() => app.synth()).not.toThrow();
  });
});
