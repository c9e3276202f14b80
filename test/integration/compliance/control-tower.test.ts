import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { DENY_GRANTS_NOT_FOR_AWS_RESOURCES } from '../../support/key-policy';
import { createApp as createTestApp, stackIn, synthesisError } from '../../support/platform';

/**
 * Control Tower proactive controls (`@cdklabs/cdk-validator-cfnguard`), which the app
 * runs at synth next to the cdk-nag packs. Unlike a cdk-nag pack the plugin needs the
 * templates on disk, so these tests synthesize the app and read the validation report.
 */

const PLUGIN = 'cdk-validator-cfnguard';

/** A synthesis with the Control Tower plugin and nothing cached takes 20-30 s on 2 cores. */
const SYNTH_TIMEOUT_MS = 300_000;

/** The whole app as `bin/` builds it, with the Control Tower plugin. */
function createApp(overrides: Record<string, unknown> = {}) {
  return createTestApp(overrides, { controlTowerChecks: true });
}

interface ReportedViolation {
  readonly ruleName: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
}

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: ReportedViolation[];
  readonly suppressedViolations?: ReportedViolation[];
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Every acknowledged Control Tower finding must match one of these, rule by construct path
 * (`<R>` stands for any region). A new acknowledgement fails the test until it is reviewed
 * here; the reasons live next to each `Validations.acknowledge` call.
 */
const REVIEWED_ACKNOWLEDGEMENTS: Readonly<Record<string, readonly string[]>> = {
  // CDK's own deploy-time singleton handlers; the API functions are in the VPC, but their
  // subnets are cross-stack references the rule cannot resolve; the authorizer is outside on purpose.
  lambda_inside_vpc_check: [
    'Commerce-<R>-Stateful/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler',
    // CDK's invoker of the deploy-time triggers: schema migrations (lib/data) and canary enrolment.
    'Commerce-<R>-Stateful/AWSCDK.TriggerCustomResourceProviderCustomResourceProvider/Handler',
    'Commerce-<R>-Stateless/AWSCDK.TriggerCustomResourceProviderCustomResourceProvider/Handler',
    // Calls Cognito in the jurisdiction's primary region (lib/identity/canary-identity.ts).
    'Commerce-<R>-Stateless/CanaryIdentity/Function/Resource',
    // Fetches the pool's public JWKS from Cognito's public endpoint (lib/identity/regional-signing-keys.ts).
    'Commerce-<R>-Stateless/SigningKeys/Function/Resource',
    'Commerce-<R>-Stateless/Api/HealthFunction/Resource',
    'Commerce-<R>-Stateless/Api/ProductsFunction/Resource',
    'Commerce-<R>-Stateless/Api/LikesFunction/Resource',
    'Commerce-<R>-Stateless/Api/ProfileFunction/Resource',
    'Commerce-<R>-Stateless/Api/CartFunction/Resource',
    'Commerce-<R>-Stateless/Api/OrdersFunction/Resource',
    'Commerce-<R>-Stateless/Api/TokenAuthorizerFunction/Resource',
    // CDK's singleton for cross-region SDK calls of the promotion workflow (lib/operations).
    'Commerce-<R>-Stateless/CrossRegionAwsSdk8a0c93f3dbef4b71ac137aaf2048ce7e/Resource',
    // Calls only CloudFront's and Secrets Manager's APIs; the edge stack has no VPC (lib/edge/origin-verification.ts).
    'Commerce-Edge/OriginVerification/RotationFunction/Resource',
  ],
  // Encrypted with the region's data key, imported from the stateful stack.
  cloudwatch_log_group_encrypted_check: ['Commerce-<R>-Stateless/Api/<Name>Logs/Resource'],
  // Route 53's health probes, which can send no header; every other route has an authorizer.
  api_gw_v2_authorization_type_configured_check: [
    'Commerce-<R>-Stateless/Api/HttpApi/GET--api--health/Resource',
    // Probed anonymously by Route 53 (lib/api/writer-api.ts).
    'Commerce-<R>-Stateless/WriterApi/HttpApi/GET--api--health--writer/Resource',
  ],
  cloudfront_access_logs_enabled_check: ['Commerce-Edge/Distribution/Resource'],
  cloudfront_origin_failover_enabled_check: ['Commerce-Edge/Distribution/Resource'],
  s3_bucket_default_encryption_kms_check: [
    'Commerce-Edge/Site/AccessLogs/Resource',
    'Commerce-Edge/Site/Assets/Resource',
  ],
  // The canaries' artifact buckets (lib/operations) hold synthetic runs only; the edge log
  // buckets (lib/edge/edge-access-logs.ts) are themselves log destinations.
  s3_bucket_object_lock_enabled_check: [
    'Commerce-Edge/Site/AccessLogs/Resource',
    'Commerce-Edge/Site/Assets/Resource',
    'Commerce-<R>-Stateless/Canary<Name>/Artifacts/Resource',
    'Commerce-EdgeLogs/EdgeLogs/<Name>/Resource',
  ],
  s3_event_notifications_enabled_check: [
    'Commerce-Edge/Site/AccessLogs/Resource',
    'Commerce-Edge/Site/Assets/Resource',
    'Commerce-<R>-Stateless/Canary<Name>/Artifacts/Resource',
    'Commerce-EdgeLogs/EdgeLogs/<Name>/Resource',
  ],
  s3_bucket_logging_enabled_check: [
    'Commerce-Edge/Site/AccessLogs/Resource',
    'Commerce-<R>-Stateless/Canary<Name>/Artifacts/Resource',
    'Commerce-EdgeLogs/EdgeLogs/<Name>/Resource',
  ],
  s3_bucket_versioning_enabled_check: ['Commerce-<R>-Stateless/Canary<Name>/Artifacts/Resource'],
};

function reviewed(rule: string, constructPath: string): boolean {
  return (REVIEWED_ACKNOWLEDGEMENTS[rule] ?? []).some((pattern) => {
    const escaped = pattern.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
    const regex = escaped.replace('<R>', '[a-z]{2}-[a-z]+-\\d').replace('<Name>', '[A-Za-z]+');
    return new RegExp(`^${regex}$`).test(constructPath);
  });
}

function guardReport(assembly: CloudAssembly): PluginReport {
  const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  const guard = report.pluginReports.find((plugin) => plugin.pluginName === PLUGIN);
  if (!guard) throw new Error(`no ${PLUGIN} report in ${assembly.directory}`);
  return guard;
}

function findings(violations: readonly ReportedViolation[] | undefined): [string, string][] {
  return (violations ?? []).flatMap((v) =>
    v.violatingConstructs.map((c): [string, string] => [v.ruleName, c.constructPath]),
  );
}

function resourcesOfType(assembly: CloudAssembly, type: string): [string, string, Record<string, unknown>][] {
  return assembly.stacks.flatMap((stack) =>
    Object.entries((stack.template as { Resources: Resources }).Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]): [string, string, Record<string, unknown>] => [
        stack.stackName,
        id,
        resource.Properties ?? {},
      ]),
  );
}

describe.each(['active-active', 'active-passive'])('Control Tower proactive controls (%s)', (model) => {
  let assembly: CloudAssembly;
  let account: string;
  beforeAll(() => {
    const { app, topology } = createApp({ deploymentModel: model });
    account = topology.config.account;
    // Throws, naming rule and construct, on any finding nobody acknowledged.
    assembly = app.synth();
  }, SYNTH_TIMEOUT_MS);

  test('find nothing unacknowledged, and every acknowledgement is a reviewed one', () => {
    const report = guardReport(assembly);
    expect(findings(report.violations)).toEqual([]);
    expect(report.conclusion).toBe('success');
    const unreviewed = findings(report.suppressedViolations).filter(([rule, at]) => !reviewed(rule, at));
    expect(unreviewed).toEqual([]);
  });

  test('every log group is kept at least a year and encrypted with a key of its own region', () => {
    const logGroups = resourcesOfType(assembly, 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThan(0);
    for (const [stackName, id, properties] of logGroups) {
      const region = assembly.getStackByName(stackName).environment.region;
      expect([id, (properties.RetentionInDays as number) >= 365]).toEqual([id, true]);
      const key = properties.KmsKeyId as Record<string, unknown> | undefined;
      expect([id, key]).toEqual([id, expect.anything()]);
      if (stackName.endsWith('-Stateful')) {
        expect(key).toEqual({ 'Fn::GetAtt': ['DataKey17AFBB84', 'Arn'] });
        continue;
      }
      const imported = (key as { 'Fn::GetStackOutput'?: { StackName: string; Region: string } })['Fn::GetStackOutput'];
      if (imported) {
        // The data key of the stateful stack of the same region.
        expect([id, imported.StackName, imported.Region]).toEqual([id, `Commerce-${region}-Stateful`, region]);
      } else {
        // Or a key of the same template, so of the same region.
        const [keyId] = (key as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
        const template = assembly.getStackByName(stackName).template as { Resources: Resources };
        expect([id, template.Resources[keyId]?.Type]).toEqual([id, 'AWS::KMS::Key']);
      }
    }
  });

  test("each region's data key denies grants not for AWS resources and lets only that region's CloudWatch Logs in", () => {
    const keys = resourcesOfType(assembly, 'AWS::KMS::Key').filter(([, id]) => id === 'DataKey17AFBB84');
    expect(keys.map(([stackName]) => stackName).sort()).toEqual(
      assembly.stacks
        .map((s) => s.stackName)
        .filter((name) => name.endsWith('-Stateful'))
        .sort(),
    );
    for (const [stackName, , properties] of keys) {
      const region = assembly.getStackByName(stackName).environment.region;
      const statements = (properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements).toContainEqual(DENY_GRANTS_NOT_FOR_AWS_RESOURCES);
      const logs = statements.filter((s) => s.Sid === 'AllowCloudWatchLogsOfThisRegion');
      expect(logs).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: `logs.${region}.amazonaws.com` },
          Condition: {
            ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${account}:log-group:*` },
          },
        }),
      ]);
    }
  });

  test('every Aurora instance has enhanced monitoring through a role of its stack', () => {
    const instances = resourcesOfType(assembly, 'AWS::RDS::DBInstance');
    expect(instances.length).toBeGreaterThan(0);
    for (const [, id, properties] of instances) {
      expect([id, properties.MonitoringInterval]).toEqual([id, 60]);
      expect([id, properties.MonitoringRoleArn]).toEqual([id, { 'Fn::GetAtt': [expect.any(String), 'Arn'] }]);
    }
  });

  test('API Gateway may invoke functions only from this account, with a literal SourceAccount', () => {
    const permissions = resourcesOfType(assembly, 'AWS::Lambda::Permission');
    expect(permissions.length).toBeGreaterThan(0);
    for (const [, id, properties] of permissions) {
      expect([id, properties.SourceAccount]).toEqual([id, account]);
    }
  });

  test('the edge buckets are versioned with enabled lifecycle rules', () => {
    const buckets = resourcesOfType(assembly, 'AWS::S3::Bucket').filter(([stackName]) => stackName === 'Commerce-Edge');
    expect(buckets.map(([, id]) => id).sort()).toEqual(['SiteAccessLogs536C0B75', 'SiteAssets7F18EA5C']);
    for (const [, id, properties] of buckets) {
      expect([id, properties.VersioningConfiguration]).toEqual([id, { Status: 'Enabled' }]);
      const rules = (properties.LifecycleConfiguration as { Rules: { Status: string }[] }).Rules;
      expect([id, rules.some((rule) => rule.Status === 'Enabled')]).toEqual([id, true]);
    }
  });
});

// The library reports violations without a severity, and the app acknowledges some of them:
// unless ControlTowerChecks marks every violation an error, this synthesis prints the findings
// and succeeds.
test(
  'synthesis fails on a Control Tower finding nobody acknowledged, naming the rules and the construct',
  () => {
    const { app, platform } = createApp();
    new logs.LogGroup(stackIn(platform.stateless, 'eu-west-1'), 'UnreviewedLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const message = synthesisError(app);
    expect(message).toContain('Commerce-eu-west-1-Stateless/UnreviewedLogs/Resource');
    expect(message).toContain(`Acknowledge with '${PLUGIN}::cloudwatch_log_group_retention_period_check'`);
    expect(message).toContain(`Acknowledge with '${PLUGIN}::cloudwatch_log_group_encrypted_check'`);
    // Only the new log group is reported: everything else stays fixed or acknowledged.
    const reported = message.match(/^ {3}\S+(?: \(\w+\))? aws-cdk-lib\.\S+$/gm) ?? [];
    expect(new Set(reported.map((line) => line.trim().split(' ')[0]))).toEqual(
      new Set(['Commerce-eu-west-1-Stateless/UnreviewedLogs/Resource']),
    );
  },
  SYNTH_TIMEOUT_MS,
);
