import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { FunctionEnvironment } from '../../../lambda/shared/environment';
import { createCopierHandler } from '../../../lambda/signing-keys/handler';
import type { CommercePlatform } from '../../../lib/commerce-platform';
import type { Topology } from '../../../lib/config/topology';
import { checkCalls, type FunctionVerdict, unusedEverywhere } from '../../../local/rehearsal/check';
import { deploymentOf } from '../../../local/rehearsal/deployment';
import type { CfnTemplate } from '../../../local/rehearsal/intrinsics';
import { type Recording, recordCalls } from '../../../local/rehearsal/record-calls';
import { CallRecorder, runAs } from '../../../local/rehearsal/recorder';
import { AwsStandIns } from '../../../local/rehearsal/stand-ins';
import { createApp } from '../../support/platform';

// One recording of the default topology's code (the shop walked, the other handlers run),
// checked against the synthesized templates as they are, then with one fault planted in a
// copy of them: each fault must be found, named by function, region, action or endpoint.

const REGION = 'eu-central-1';
const STATELESS = `Commerce-${REGION}-Stateless`;

let platform: CommercePlatform;
let topology: Topology;
let templates: Record<string, CfnTemplate>;
let recording: Recording;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIAREHEARSAL';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'rehearsal';
  const built = createApp();
  platform = built.platform;
  topology = built.topology;
  const assembly = built.app.synth();
  templates = Object.fromEntries(assembly.stacks.map((stack) => [stack.stackName, stack.template as CfnTemplate]));
  recording = await recordCalls(topology, deploymentOf(platform, templates));
});

/** The verdicts with `plant` applied to a copy of the templates. */
async function checkWith(plant: (copy: Record<string, CfnTemplate>) => void): Promise<FunctionVerdict[]> {
  const copy = structuredClone(templates);
  plant(copy);
  return checkCalls(recording.calls, deploymentOf(platform, copy), recording.storeEndpoints);
}

function verdictOf(verdicts: FunctionVerdict[], fn: string, region = REGION): FunctionVerdict {
  const verdict = verdicts.find((v) => v.scope.function === fn && v.scope.region === region);
  if (!verdict) throw new Error(`no verdict for ${fn} in ${region}`);
  return verdict;
}

/** The IAM actions recorded per function, over all its regions, as one sorted line each. */
function recordedActions(verdicts: FunctionVerdict[]): Record<string, string> {
  const byFunction = new Map<string, Set<string>>();
  for (const v of verdicts)
    byFunction.set(v.scope.function, new Set([...(byFunction.get(v.scope.function) ?? []), ...v.actions]));
  return Object.fromEntries([...byFunction].map(([fn, actions]) => [fn, [...actions].sort().join(' ')]));
}

function resources(copy: Record<string, CfnTemplate>, stack = STATELESS) {
  const template = copy[stack];
  if (!template) throw new Error(`no stack ${stack}`);
  return template.Resources as Record<string, { Type: string; Properties?: Record<string, any> }>;
}

function onlyId(copy: Record<string, CfnTemplate>, matches: (id: string, type: string) => boolean): string {
  const ids = Object.entries(resources(copy))
    .filter(([id, resource]) => matches(id, resource.Type))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one resource, found ${ids.join(', ')}`);
  return ids[0] as string;
}

test('as synthesized, every recorded call is allowed and reachable, and every unused grant has a reason', async () => {
  const verdicts = await checkWith(() => undefined);
  const problems = verdicts.flatMap((v) => [...v.denied, ...v.unreachable]);
  expect(problems).toEqual([]);
  expect(recording.requests).toBeGreaterThanOrEqual(40);
  expect(recording.failures).toEqual([]);
  // Only the migrations (no Aurora here) and the canaries (no website here) end early.
  expect(new Set(recording.expectedEndings.map((line) => line.split(' ')[0]))).toEqual(
    new Set(['migrations', 'canary:global', 'canary:regional']),
  );
  // What each function was recorded doing, in every region of the jurisdiction it runs in:
  // a recording that silently lost a call would pass every check above.
  expect(recordedActions(verdicts)).toEqual({
    'api:cart': 'dynamodb:Query dynamodb:UpdateItem kms:Decrypt',
    'api:health': 'dynamodb:GetItem kms:Decrypt rds-db:connect',
    'api:likes': 'dynamodb:PutItem dynamodb:Query dynamodb:UpdateItem kms:Decrypt',
    'api:orders': 'rds-db:connect',
    'api:products': 'dynamodb:Query dynamodb:UpdateItem kms:Decrypt rds-db:connect',
    'api:profile': 'dynamodb:Query dynamodb:UpdateItem kms:Decrypt',
    authorizer: 'kms:Verify secretsmanager:GetSecretValue ssm:GetParameter',
    'canary-identity':
      'cognito-idp:AdminCreateUser cognito-idp:AdminInitiateAuth cognito-idp:AdminRespondToAuthChallenge ' +
      'cognito-idp:AdminSetUserMFAPreference cognito-idp:AdminSetUserPassword dynamodb:PutItem kms:Decrypt ' +
      'kms:GenerateDataKey secretsmanager:DescribeSecret secretsmanager:GetSecretValue ' +
      'secretsmanager:PutSecretValue secretsmanager:UpdateSecretVersionStage',
    'canary:global':
      'cognito-idp:AdminInitiateAuth cognito-idp:AdminRespondToAuthChallenge kms:Decrypt secretsmanager:GetSecretValue',
    'canary:regional':
      'cognito-idp:AdminInitiateAuth cognito-idp:AdminRespondToAuthChallenge kms:Decrypt secretsmanager:GetSecretValue',
    migrations: 'kms:Decrypt rds-db:connect secretsmanager:GetSecretValue',
    'signing-keys': 'kms:Sign kms:Verify ssm:GetParameter ssm:PutParameter',
  });
  const unexplained = [...unusedEverywhere(verdicts).entries()].flatMap(([fn, actions]) =>
    [...actions.entries()].filter(([, reason]) => reason === undefined).map(([action]) => `${fn} ${action}`),
  );
  expect(unexplained).toEqual([]);
  // docs/testing.md states the count per function.
  const documented = Object.fromEntries(
    [
      ...readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'testing.md'), 'utf8').matchAll(
        /^\| ([a-z:-]+) +\| +([1-9]\d*) \|/gm,
      ),
    ].map(([, fn, count]) => [fn, Number(count)]),
  );
  const counted = Object.fromEntries(
    [...unusedEverywhere(verdicts).entries()].map(([fn, actions]) => [fn, actions.size]),
  );
  expect(counted).toEqual(documented);
});

test('a role that loses one grant: the call is denied, naming function, action, resource and policy', async () => {
  const verdicts = await checkWith((copy) => {
    const policyId = onlyId(copy, (id, type) => type === 'AWS::IAM::Policy' && id.startsWith('ApiProfileFunction'));
    const document = resources(copy)[policyId]?.Properties?.PolicyDocument;
    for (const statement of document.Statement as { Action: string | string[] }[])
      statement.Action = [statement.Action].flat().filter((action) => action !== 'dynamodb:UpdateItem');
  });
  const denied = verdictOf(verdicts, 'api:profile').denied;
  expect(denied.map((d) => [d.request.action, d.request.resource])).toEqual([
    ['dynamodb:UpdateItem', `arn:aws:dynamodb:${REGION}:123456789012:table/Commerce-eu-eventual`],
  ]);
  expect(denied[0]?.reason).toMatch(
    /no Allow statement for it in the role's identity policies \((VpcNetworkInterfaces, )?ApiProfileFunction/,
  );
  // Only that region's copy of the function lost it.
  expect(verdictOf(verdicts, 'api:profile', 'eu-west-1').denied).toEqual([]);
});

test("a grant narrowed to other items: the call is denied, naming the statement's condition", async () => {
  const verdicts = await checkWith((copy) => {
    const policyId = onlyId(copy, (id, type) => type === 'AWS::IAM::Policy' && id.startsWith('ApiProfileFunction'));
    for (const statement of resources(copy)[policyId]?.Properties?.PolicyDocument.Statement ?? [])
      if (statement.Condition?.['ForAllValues:StringLike'])
        statement.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'] = ['ORDER#*'];
  });
  const denied = verdictOf(verdicts, 'api:profile').denied;
  expect(denied.map((d) => d.request.action).sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  expect(denied[0]?.reason).toMatch(
    /^statement \d+ of ApiProfileFunction\w+ allows it only when ForAllValues:StringLike dynamodb:LeadingKeys \["ORDER#\*"\]$/,
  );
});

test('a KMS key policy that does not let the role use the key: the key call is denied', async () => {
  const verdicts = await checkWith((copy) => {
    const keyId = onlyId(copy, (id, type) => type === 'AWS::KMS::Key' && id.startsWith('SigningKeysCopyKey'));
    const policy = resources(copy)[keyId]?.Properties?.KeyPolicy;
    // The account's IAM policies no longer count: only the copier's role may use the key.
    policy.Statement = [
      {
        Effect: 'Allow',
        Principal: {
          AWS: {
            'Fn::GetAtt': [
              onlyId(copy, (id, type) => type === 'AWS::IAM::Role' && id.startsWith('SigningKeysFunctionServiceRole')),
              'Arn',
            ],
          },
        },
        Action: 'kms:*',
        Resource: '*',
      },
    ];
  });
  const denied = verdictOf(verdicts, 'authorizer').denied;
  expect(denied.map((d) => d.request.action)).toEqual(['kms:Verify']);
  expect(denied[0]?.request.resource).toMatch(new RegExp(`^arn:aws:kms:${REGION}:123456789012:key/`));
  expect(denied[0]?.reason).toMatch(/key policy/);
  expect(verdictOf(verdicts, 'signing-keys').denied).toEqual([]);
});

test("the KMS grant an encrypted table implies, taken away: the item call's Decrypt is denied", async () => {
  const verdicts = await checkWith((copy) => {
    const policyId = onlyId(copy, (id, type) => type === 'AWS::IAM::Policy' && id.startsWith('ApiHealthFunction'));
    const document = resources(copy)[policyId]?.Properties?.PolicyDocument;
    document.Statement = document.Statement.filter(
      (statement: { Action: string | string[] }) => ![statement.Action].flat().includes('kms:Decrypt'),
    );
  });
  const denied = verdictOf(verdicts, 'api:health').denied;
  expect(denied.map((d) => [d.request.action, d.request.impliedBy])).toEqual([['kms:Decrypt', 'dynamodb:GetItem']]);
  expect(denied[0]?.request.context).toEqual({ 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` });
});

test("the API functions' HTTPS egress removed: the DynamoDB calls through the gateway endpoint are unreachable", async () => {
  const verdicts = await checkWith((copy) => {
    const groupId = onlyId(
      copy,
      (id, type) => type === 'AWS::EC2::SecurityGroup' && id.startsWith('ApiFunctionsSecurityGroup'),
    );
    const group = resources(copy)[groupId]?.Properties as { SecurityGroupEgress: { FromPort?: number }[] };
    group.SecurityGroupEgress = group.SecurityGroupEgress.filter((rule) => rule.FromPort !== 443);
  });
  const unreachable = verdictOf(verdicts, 'api:profile').unreachable;
  expect(unreachable.length).toBeGreaterThan(0);
  for (const u of unreachable)
    expect(u.reason).toMatch(/gateway endpoint DynamoDbEndpoint\w+: no egress rule of sg-\S+ lets 443 out/);
});

test('a VPC endpoint removed: the calls through it are unreachable', async () => {
  const verdicts = await checkWith((copy) => {
    delete resources(copy)[
      onlyId(copy, (id, type) => type === 'AWS::EC2::VPCEndpoint' && id.startsWith('DynamoDbEndpoint'))
    ];
  });
  const unreachable = verdictOf(verdicts, 'api:cart').unreachable;
  expect(unreachable.length).toBeGreaterThan(0);
  for (const u of unreachable) {
    expect(u.target.host).toBe(`dynamodb.${REGION}.amazonaws.com`);
    expect(u.reason).toContain(`no VPC endpoint com.amazonaws.${REGION}.dynamodb`);
    expect(u.reason).toContain('no route to the internet');
  }
  expect(verdictOf(verdicts, 'api:cart', 'eu-west-1').unreachable).toEqual([]);
});

test.each([
  ['StrongStoreProxySecurityGroupfrom', 'database session as commerce_app', 5432],
  ['CacheSecurityGroupfrom', 'cache session', 6379],
])('a security group rule removed (%s): the store is unreachable', async (rulePrefix, call, port) => {
  const verdicts = await checkWith((copy) => {
    delete resources(copy)[
      onlyId(copy, (id, type) => type === 'AWS::EC2::SecurityGroupIngress' && id.startsWith(rulePrefix))
    ];
  });
  const unreachable = verdictOf(verdicts, 'api:health').unreachable;
  expect(unreachable.map((u) => u.call)).toEqual([call]);
  expect(unreachable[0]?.reason).toMatch(new RegExp(`no ingress rule of sg-\\S+ admits sg-\\S+ on ${port}`));
});

test('a new SDK call added to a handler without a grant is recorded and denied', async () => {
  const deployment = deploymentOf(platform, templates);
  const copier = deployment.function({ region: REGION, function: 'signing-keys' });
  if (!copier) throw new Error('no signing-keys function');
  const env = { ...copier.environment, AWS_REGION: REGION } as FunctionEnvironment;
  const recorder = new CallRecorder(new AwsStandIns('{"keys":[]}', deployment).standIns).install();
  try {
    // The copier as a change might make it: it also deletes the parameter.
    await runAs(copier.scope, async () => {
      await createCopierHandler(env)({}).catch(() => undefined);
      await new SSMClient({ region: REGION })
        .send(new DeleteParameterCommand({ Name: env.SIGNING_KEYS_PARAMETER }))
        .catch(() => undefined);
    });
  } finally {
    recorder.uninstall();
  }
  const verdicts = await checkCalls(recorder.calls, deployment, new Map());
  const denied = verdictOf(verdicts, 'signing-keys').denied;
  expect(denied.map((d) => [d.request.action, d.request.resource])).toEqual([
    ['ssm:DeleteParameter', `arn:aws:ssm:${REGION}:123456789012:parameter${env.SIGNING_KEYS_PARAMETER}`],
  ]);
});
