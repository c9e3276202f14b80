import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataResidencyChecks, residencyScopeOf } from '../../../lib/compliance/data-residency-checks';
import { PlatformChecks } from '../../../lib/compliance/platform-checks';
import { buildPlatform, createApp, stackIn, synthesisError } from '../../support/platform';

describe('cdk-nag', () => {
  test.each(['active-active', 'active-passive'])(
    'AwsSolutions, Platform and DataResidency packs find nothing unacknowledged in any stack (%s)',
    (model) => {
      const { app, topology } = buildPlatform({ deploymentModel: model });
      const packs = [
        new AwsSolutionsChecks(app),
        new PlatformChecks(app),
        new DataResidencyChecks(residencyScopeOf(topology), app),
      ];
      const reports = packs.map((pack) => pack.validateScope(app));
      const findings = reports.flatMap((report) =>
        report.violations.flatMap((v) =>
          v.violatingResources.map((r) => `${v.ruleName} ${(r as { constructPath?: string }).constructPath}`),
        ),
      );
      expect(findings).toEqual([]);
      expect(reports.every((report) => report.success)).toBe(true);
    },
  );

  test('synthesis fails on a finding nobody acknowledged, naming the rule and the construct', () => {
    const { app, platform } = createApp();
    new s3.Bucket(stackIn(platform.stateless, 'eu-west-1'), 'UnreviewedBucket');
    const message = synthesisError(app);
    expect(message).toContain('Commerce-eu-west-1-Stateless/UnreviewedBucket/Resource');
    expect(message).toContain("Acknowledge with 'AwsSolutions::AwsSolutions-S1'");
    expect(message).toContain("Acknowledge with 'AwsSolutions::AwsSolutions-S10'");
    // Only the new bucket is reported: everything else stays acknowledged.
    const reported = message.match(/^ {3}\S+ aws-cdk-lib\.\S+$/gm) ?? [];
    expect(reported.map((line) => line.trim().split(' ')[0])).toEqual([
      'Commerce-eu-west-1-Stateless/UnreviewedBucket/Resource',
      'Commerce-eu-west-1-Stateless/UnreviewedBucket/Resource',
    ]);
  });
});

describe('Platform-DDBGlobalTablePITR', () => {
  function globalTable(pitrInReplica: boolean): App {
    const app = new App();
    const stack = new Stack(app, 'Tables', { env: { account: '123456789012', region: 'eu-west-1' } });
    new dynamodb.TableV2(stack, 'Global', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      replicas: [
        { region: 'eu-central-1', pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pitrInReplica } },
      ],
    });
    return app;
  }

  test('fires on a global table whose replica lacks point-in-time recovery, naming the resource', () => {
    const app = globalTable(false);
    const report = new PlatformChecks(app).validateScope(app);
    expect(report.success).toBe(false);
    expect(
      report.violations.map((v) => [
        v.ruleName,
        v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath),
      ]),
    ).toEqual([['Platform-DDBGlobalTablePITR', ['Tables/Global/Resource']]]);
  });

  test('stays quiet when every replica has it', () => {
    const app = globalTable(true);
    expect(new PlatformChecks(app).validateScope(app).violations).toEqual([]);
  });

  test('AwsSolutions alone misses the gap the Platform rule catches', () => {
    const app = globalTable(false);
    const ruleNames = new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName);
    expect(ruleNames.filter((name) => name.startsWith('AwsSolutions-DDB3'))).toEqual([]);
  });
});
