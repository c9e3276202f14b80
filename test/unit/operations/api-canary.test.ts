import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { ApiCanary, CANARY_SCRIPT } from '../../../lib/operations/api-canary';
import {
  buildCanaryStacks,
  CANARY_ACCOUNT,
  CANARY_REGION,
  CANARY_SECRET_ARN,
  CANARY_TARGETS,
  CANARY_USER_POOL_ARN,
} from '../../support/canary-stacks';
import { only, onlyOfType, resourcesOf } from '../../support/templates';

const ACCOUNT = CANARY_ACCOUNT;
const REGION = CANARY_REGION;
const USER_POOL_ARN = CANARY_USER_POOL_ARN;
const TARGETS = CANARY_TARGETS;
const build = buildCanaryStacks;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Every statement of every policy attached to the canary's role, inline or managed. */
function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const json = template.toJSON();
  const statements: Statement[] = [];
  for (const resource of Object.values(json.Resources) as { Type: string; Properties: any }[]) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = JSON.stringify(resource.Properties.Roles ?? []);
      if (roles.includes(`"${roleLogicalId}"`)) statements.push(...resource.Properties.PolicyDocument.Statement);
    }
  }
  const role = json.Resources[roleLogicalId];
  for (const policy of role.Properties.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
  expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  return statements;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

// The one construct of lib/ tested in two stacks: its key must come from the stateful stack to
// show that the canary adds nothing to that stack's key policy. It also bundles its script
// with esbuild (a child process) when built: once per test file, about 0.3 s.
describe('ApiCanary', () => {
  // given the data key in the stateful stack; when the canary is built in the stateless one
  const { stateful, stateless, canary } = build();
  // then each test reads one aspect of the stateless template
  const template = Template.fromStack(stateless);
  // The data key's ARN as the stateless stack refers to it (a cross-stack reference of
  // whatever kind the feature flags pick), taken from the bucket and checked to be the key's.
  const [keyId] = onlyOfType(Template.fromStack(stateful), 'AWS::KMS::Key');
  const [, bucketResource] = onlyOfType(template, 'AWS::S3::Bucket');
  const dataKeyArn = bucketResource.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
    .ServerSideEncryptionByDefault.KMSMasterKeyID as unknown;

  test('a Node.js Synthetics canary on the newest runtime, every 5 minutes, running the bundled walk', () => {
    template.hasResourceProperties('AWS::Synthetics::Canary', {
      Name: 'api-walk',
      RuntimeVersion: 'syn-nodejs-puppeteer-13.0',
      Schedule: { Expression: 'rate(5 minutes)' },
      Code: { Handler: 'api-walk.handler', S3Key: Match.stringLikeRegexp('\\.zip$') },
      StartCanaryAfterCreation: true,
      SuccessRetentionPeriod: 30,
      FailureRetentionPeriod: 30,
      ProvisionedResourceCleanup: 'AUTOMATIC',
    });
    // The newest Node.js runtime the installed aws-cdk-lib knows.
    const nodeRuntimes = Object.keys(synthetics.Runtime).filter((name) => name.startsWith('SYNTHETICS_NODEJS_'));
    const newestPuppeteer = nodeRuntimes
      .filter((name) => name.includes('PUPPETEER'))
      .sort((a, b) => version(a) - version(b))
      .at(-1);
    expect(newestPuppeteer).toBe('SYNTHETICS_NODEJS_PUPPETEER_13_0');
  });

  test('the schedule can be changed', () => {
    const hourly = Template.fromStack(
      build({ schedule: synthetics.Schedule.rate(Duration.hours(1)), canaryName: 'walk-hourly' }).stateless,
    );
    hourly.hasResourceProperties('AWS::Synthetics::Canary', {
      Name: 'walk-hourly',
      Schedule: { Expression: 'rate(60 minutes)' },
    });
  });

  test('its environment names the targets, the product, the secret and the user pool', () => {
    const [, canaryResource] = onlyOfType(template, 'AWS::Synthetics::Canary');
    const environment = canaryResource.Properties.RunConfig.EnvironmentVariables;
    expect(JSON.parse(environment.CANARY_TARGETS)).toEqual(TARGETS);
    expect(environment).toEqual({
      CANARY_TARGETS: expect.any(String),
      CANARY_SKU: 'CANARY-1',
      CANARY_SECRET_ARN,
      USER_POOL_ID: 'eu-west-1_AbCdEfGhI',
      USER_POOL_CLIENT_ID: 'webclient123',
      USER_POOL_REGION: 'eu-west-1',
      CANARY_STEP_TIMEOUT_MS: '10000',
    });
  });

  test('the asset holds the bundled script where Synthetics Node.js runtimes look for it', () => {
    const [, canaryResource] = onlyOfType(template, 'AWS::Synthetics::Canary');
    const assetHash = (canaryResource.Properties.Code.S3Key as string).replace(/\.zip$/, '');
    const script = path.join(
      (stateless.node.root as App).outdir,
      `asset.${assetHash}`,
      'nodejs',
      'node_modules',
      `${CANARY_SCRIPT}.js`,
    );
    const text = fs.readFileSync(script, 'utf8');
    expect(text.includes('ADMIN_USER_PASSWORD_AUTH')).toBe(true);
    // Self-contained: the SDK clients are inside; the only module left outside is the
    // optional CRT signer, which the SDK loads in a try/catch for SigV4a only.
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].flatMap(([, name]) => (name ? [name] : []));
    expect(new Set(required.filter((name) => !name.startsWith('node:') && !isBuiltin(name)))).toEqual(
      new Set(['@aws-sdk/signature-v4-crt']),
    );
    // What Synthetics calls: an exported async handler.
    const loaded = require(script) as { handler?: unknown };
    expect(typeof loaded.handler).toBe('function');
  });

  test('a stack left out of bundling (cdk deploy of another stack) still synthesizes, with no bundle', () => {
    // given, when
    const skipped = build({}, { 'aws:cdk:bundling-stacks': [] });
    // then
    const [, canaryResource] = onlyOfType(Template.fromStack(skipped.stateless), 'AWS::Synthetics::Canary');
    expect(canaryResource.Properties.Code.Handler).toBe(`${CANARY_SCRIPT}.handler`);
  });

  test('artifacts go to a private, TLS-only bucket encrypted with the data key, expired after 30 days', () => {
    expect(JSON.stringify(dataKeyArn)).toMatch(new RegExp(`^\\{"Fn::\\w+":.*${keyId}.*Arn`));
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: dataKeyArn },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Synthetics::Canary', {
      ArtifactS3Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('ApiCanaryArtifacts') }]] },
      ArtifactConfig: { S3Encryption: { EncryptionMode: 'SSE_KMS', KmsKeyArn: dataKeyArn } },
    });
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });

  test("the role may do what Synthetics needs, read its one secret and sign in to the one pool; '*' only where unavoidable", () => {
    const roleId = stateless.getLogicalId(canary.role.node.defaultChild as iam.CfnRole);
    template.hasResourceProperties('AWS::Synthetics::Canary', { ExecutionRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
    });
    const statements = roleStatements(template, roleId);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    const byAction = (action: string) => statements.filter((s) => asList(s.Action).includes(action));

    // The only statements on every resource: actions that have no resource-level scoping.
    const onEverything = statements.filter((s) => asList(s.Resource).includes('*'));
    expect(onEverything).toEqual([
      { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } },
      },
    ]);

    expect(byAction('cognito-idp:AdminInitiateAuth')).toEqual([
      {
        Effect: 'Allow',
        Action: ['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminRespondToAuthChallenge'],
        Resource: USER_POOL_ARN,
      },
    ]);
    expect(byAction('secretsmanager:GetSecretValue')).toEqual([
      {
        Effect: 'Allow',
        // GetSecretValue alone: the canary never describes the secret.
        Action: 'secretsmanager:GetSecretValue',
        Resource: CANARY_SECRET_ARN,
      },
    ]);
    const bucketId = stateless.getLogicalId(canary.artifactsBucket.node.defaultChild as s3.CfnBucket);
    expect(byAction('s3:PutObject').map((s) => s.Resource)).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
    ]);
    expect(byAction('s3:GetBucketLocation').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [bucketId, 'Arn'] }]);
    // Its function's own log group only, which it may write to but not create.
    const logGroupId = stateless.getLogicalId(canary.logGroup.node.defaultChild as logs.CfnLogGroup);
    expect(byAction('logs:PutLogEvents')).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    expect(byAction('kms:GenerateDataKey*').map((s) => s.Resource)).toEqual([dataKeyArn]);
    // Nothing else: no other service, no other action.
    const actions = statements.flatMap((s) => asList(s.Action)).sort();
    expect(actions).toEqual(
      [
        'cloudwatch:PutMetricData',
        'cognito-idp:AdminInitiateAuth',
        'cognito-idp:AdminRespondToAuthChallenge',
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey*',
        'kms:ReEncrypt*',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetBucketLocation',
        's3:ListAllMyBuckets',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
  });

  test("the data key's stack is untouched: no statement about the canary in its key policy", () => {
    const keyPolicy = JSON.stringify(Template.fromStack(stateful).toJSON());
    expect(keyPolicy).not.toMatch(/Canary|secretsmanager/);
  });

  test('metrics for an alarm: success percent and failed runs of this canary', () => {
    const metric = canary.metricSuccessPercent();
    expect([metric.namespace, metric.metricName, metric.statistic]).toEqual([
      'CloudWatchSynthetics',
      'SuccessPercent',
      'Average',
    ]);
    expect(Object.keys(metric.dimensions ?? {})).toEqual(['CanaryName']);
    expect(canary.metricFailed().metricName).toBe('Failed');
  });

  test('the secret is used as given (the CanaryIdentity one), and nothing is created for it', () => {
    const other = new App();
    const stack = new Stack(other, 'S', { env: { account: ACCOUNT, region: REGION } });
    const key = new kms.Key(stack, 'K', { enableKeyRotation: true });
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:canary-user-AbCdEf`;
    new ApiCanary(stack, 'ApiCanary', {
      targets: TARGETS,
      sku: 'CANARY-1',
      userPoolArn: USER_POOL_ARN,
      userPoolClientId: 'webclient123',
      encryptionKey: key,
      credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Existing', secretArn),
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.hasResourceProperties('AWS::Synthetics::Canary', {
      RunConfig: { EnvironmentVariables: Match.objectLike({ CANARY_SECRET_ARN: secretArn }) },
    });
  });

  test("its function's log group exists in the template, named after the canary's id, with the key and a year's retention", () => {
    const canaryId = stateless.getLogicalId(canary.canary.node.defaultChild as synthetics.CfnCanary);
    const [logGroupId, logGroup] = onlyOfType(template, 'AWS::Logs::LogGroup');
    expect(logGroup.Properties).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/cwsyn-api-walk-', { 'Fn::GetAtt': [canaryId, 'Id'] }]] },
      KmsKeyId: dataKeyArn,
      RetentionInDays: 365,
    });
    // The grant to write it is a policy of its own, so the canary's other grants do not
    // wait for the canary to exist.
    const policies = resourcesOf(template, 'AWS::IAM::Policy');
    const [, logsPolicy] = only(policies, 'ApiCanaryLogsPolicy');
    expect(JSON.stringify(logsPolicy.PolicyDocument)).toContain(logGroupId);
    const [, defaultPolicy] = only(policies, 'ApiCanaryRoleDefaultPolicy');
    expect(JSON.stringify(defaultPolicy.PolicyDocument)).not.toContain(logGroupId);
  });

  test('a target may name the secret of its proof of origin; targets that do not, say nothing of it', () => {
    const withProof = build({
      targets: [
        { label: 'global', baseUrl: 'https://api.shop.example.com', originSecretName: 'commerce/origin-verify' },
        { label: 'regional', baseUrl: 'https://abc123.execute-api.eu-central-1.amazonaws.com' },
      ],
    });
    const [, canaryResource] = onlyOfType(Template.fromStack(withProof.stateless), 'AWS::Synthetics::Canary');
    expect(JSON.parse(canaryResource.Properties.RunConfig.EnvironmentVariables.CANARY_TARGETS)).toEqual([
      { label: 'global', baseUrl: 'https://api.shop.example.com', originSecretName: 'commerce/origin-verify' },
      { label: 'regional', baseUrl: 'https://abc123.execute-api.eu-central-1.amazonaws.com' },
    ]);
  });

  test('refuses to be built with no target', () => {
    expect(() => build({ targets: [] })).toThrow('ApiCanary needs at least one target');
  });

  test('every acknowledgement is on the narrowest construct: the bucket or the role', () => {
    const { canary } = build();
    const acknowledged = (construct: { node: { metadata: { type: string; data: unknown }[] } }) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as object))
        .map((id) => id.replace(/^annotation::/i, ''));
    expect(acknowledged(canary as never)).toEqual([]);
    expect(acknowledged(canary.canary as never)).toEqual([]);
    expect(acknowledged(canary.role as never).sort()).toEqual(
      [
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        `AwsSolutions-IAM5[Resource::<${Stack.of(canary).getLogicalId(canary.artifactsBucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        'AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    // The KMS families are granted on the key given (the region's operations key), which the
    // reason names; S3's access logging is not said to be replaced by CloudTrail data events.
    const reasons = (construct: { node: { metadata: { type: string; data: unknown }[] } }) =>
      Object.assign(
        {},
        ...construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .map((entry) => entry.data as Record<string, string>),
      ) as Record<string, string>;
    const roleReasons = Object.entries(reasons(canary.role as never));
    const kmsReason = roleReasons.find(([id]) => id.includes('kms:GenerateDataKey*'))?.[1];
    expect(kmsReason).toContain("the region's operations key");
    expect(kmsReason).not.toContain('data key');
    expect(Object.values(reasons(canary.artifactsBucket as never)).join(' ')).not.toContain('CloudTrail');
    expect(acknowledged(canary.artifactsBucket as never).sort()).toEqual([
      'AwsSolutions-S1',
      'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
      'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
      'cdk-validator-cfnguard::s3_bucket_versioning_enabled_check',
      'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
    ]);
    // The secret is not the canary's: it has rotation (CanaryIdentity), so nothing to acknowledge here.
    expect(acknowledged(canary.credentials as never)).toEqual([]);
  });
});

function version(runtimeName: string): number {
  const [major, minor] = runtimeName.split('_').slice(-2).map(Number);
  return (major as number) * 1000 + (minor as number);
}

function isBuiltin(name: string): boolean {
  return (require('node:module') as typeof import('node:module')).builtinModules.includes(name);
}
