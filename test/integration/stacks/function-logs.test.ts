import { type BuiltPlatform, buildPlatform, resourcesOf } from '../../support/platform';
import type { Resources } from '../../support/templates';

// Every writer of logs in the app — each Lambda function (the app's and CDK's own), each
// Aurora cluster's exported log, each Synthetics canary and the master secret's hosted
// rotation function — and the one log group it writes to, which must be a resource of the
// same template with a customer-managed key and a retention. A writer found here with no
// group fails the test: a new function must come with its group.

type Resource = Resources[string];
type Json = unknown;

interface Writer {
  /** `<stack>/<logical id>` of the writer. */
  readonly name: string;
  /** Logical id of its log group in the same template. */
  readonly logGroup: string;
}

const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);
const join = (...parts: Json[]) => ({ 'Fn::Join': ['', parts] });

/** The log group whose name is `name` (a literal or an intrinsic), or the one `Ref`'d. */
function groupNamed(resources: Resources, name: Json): string | undefined {
  return Object.entries(resources).find(
    ([, resource]) => resource.Type === 'AWS::Logs::LogGroup' && same(resource.Properties?.LogGroupName, name),
  )?.[0];
}

function refOf(value: Json): string | undefined {
  return (value as { Ref?: string } | undefined)?.Ref;
}

/** Where each writer of one template logs, found from the writer's own properties. */
function writersOf(stack: string, resources: Resources): { writers: Writer[]; missing: string[] } {
  const writers: Writer[] = [];
  const missing: string[] = [];
  const found = (id: string, logGroup: string | undefined) =>
    logGroup && resources[logGroup]?.Type === 'AWS::Logs::LogGroup'
      ? writers.push({ name: `${stack}/${id}`, logGroup })
      : missing.push(`${stack}/${id}`);
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Lambda::Function': {
        const named = refOf((props.LoggingConfig as { LogGroup?: Json } | undefined)?.LogGroup);
        found(id, named ?? groupNamed(resources, join('/aws/lambda/', { Ref: id })));
        break;
      }
      case 'AWS::RDS::DBCluster':
        for (const log of (props.EnableCloudwatchLogsExports as string[] | undefined) ?? []) {
          found(`${id}:${log}`, groupNamed(resources, join('/aws/rds/cluster/', { Ref: id }, `/${log}`)));
        }
        break;
      case 'AWS::Synthetics::Canary':
        found(id, groupNamed(resources, join(`/aws/lambda/cwsyn-${props.Name}-`, { 'Fn::GetAtt': [id, 'Id'] })));
        break;
      case 'AWS::SecretsManager::RotationSchedule': {
        const hosted = props.HostedRotationLambda as { RotationLambdaName?: string } | undefined;
        if (!hosted) break;
        const name = hosted.RotationLambdaName;
        found(`${id}:rotation`, name ? groupNamed(resources, `/aws/lambda/${name}`) : undefined);
        break;
      }
    }
  }
  return { writers, missing };
}

/** Every statement of the identity policies of role `roleId`: the role's own, and attached ones. */
function statementsOfRole(resources: Resources, roleId: string): { Action: Json; Resource: Json }[] {
  const role = resources[roleId];
  const inline = ((role?.Properties?.Policies as { PolicyDocument: { Statement: any[] } }[] | undefined) ?? []).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  const attached = Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) => ((policy.Properties?.Roles as Json[]) ?? []).some((ref) => same(ref, { Ref: roleId })))
    .flatMap((policy) => (policy.Properties?.PolicyDocument as { Statement?: any[] } | undefined)?.Statement ?? []);
  return [...inline, ...attached];
}

const asList = (value: Json): Json[] => (Array.isArray(value) ? value : [value]);

/** The role of a function or canary, when it is a role of the same template. */
function roleOf(resource: Resource): string | undefined {
  const arn = resource.Properties?.Role ?? resource.Properties?.ExecutionRoleArn;
  const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}

describe.each([
  ['active-active', {}],
  [
    'active-passive, with Stripe payments',
    { deploymentModel: 'active-passive', payments: { processor: 'stripe', secretName: 'commerce/stripe' } },
  ],
])('the log group of every writer, %s', (_model, overrides) => {
  let built: BuiltPlatform;
  beforeAll(() => {
    built = buildPlatform(overrides);
  });
  const each = () =>
    Object.entries(built.templates).map(([stack, template]) => [stack, resourcesOf(template)] as const);

  test('every function, cluster, canary and rotation function has its log group in its template, with a key and a retention', () => {
    const writers: Writer[] = [];
    const missing: string[] = [];
    for (const [stack, resources] of each()) {
      const found = writersOf(stack, resources);
      writers.push(...found.writers);
      missing.push(...found.missing);
      for (const writer of found.writers) {
        const group = resources[writer.logGroup]?.Properties ?? {};
        expect({ writer: writer.name, key: group.KmsKeyId !== undefined }).toEqual({ writer: writer.name, key: true });
        expect({ writer: writer.name, retention: typeof group.RetentionInDays }).toEqual({
          writer: writer.name,
          retention: 'number',
        });
      }
    }
    expect(missing).toEqual([]);
    // What the app writes from, per region: the list must not silently shrink.
    const kinds = (prefix: string) => writers.filter((w) => w.name.split('/')[1]?.startsWith(prefix)).length;
    expect(kinds('StrongStoreCluster')).toBeGreaterThanOrEqual(4);
    expect(kinds('Canary')).toBeGreaterThanOrEqual(8);
    expect(kinds('AWSCDKTriggerCustomResourceProvider')).toBe(8);
    expect(kinds('CustomVpcRestrictDefaultSG')).toBe(4);
    expect(kinds('CrossRegionAwsSdk')).toBe(4);
  });

  test('each function logs where it is created after its group: it names the group, or no deploy invokes it', () => {
    for (const [stack, resources] of each()) {
      for (const [id, fn] of Object.entries(resources)) {
        if (fn.Type !== 'AWS::Lambda::Function') continue;
        const named = refOf((fn.Properties?.LoggingConfig as { LogGroup?: Json } | undefined)?.LogGroup);
        // The one exception, CDK's cross-region handler: only the promotion workflow invokes it.
        expect({ fn: `${stack}/${id}`, named: named !== undefined || id.startsWith('CrossRegionAwsSdk') }).toEqual({
          fn: `${stack}/${id}`,
          named: true,
        });
      }
      for (const [id, instance] of Object.entries(resources)) {
        if (instance.Type !== 'AWS::RDS::DBInstance') continue;
        const cluster = refOf(instance.Properties?.DBClusterIdentifier);
        const group = cluster && groupNamed(resources, join('/aws/rds/cluster/', { Ref: cluster }, '/postgresql'));
        expect({ instance: `${stack}/${id}`, after: asList((instance as { DependsOn?: Json }).DependsOn) }).toEqual({
          instance: `${stack}/${id}`,
          after: expect.arrayContaining([group]),
        });
      }
      for (const [, schedule] of Object.entries(resources)) {
        if (schedule.Type !== 'AWS::SecretsManager::RotationSchedule' || !schedule.Properties?.HostedRotationLambda)
          continue;
        const name = (schedule.Properties.HostedRotationLambda as { RotationLambdaName: string }).RotationLambdaName;
        expect(asList((schedule as { DependsOn?: Json }).DependsOn)).toContain(
          groupNamed(resources, `/aws/lambda/${name}`),
        );
      }
    }
  });

  test("each function's and canary's role writes its own group and no other, creates none, and has no managed policy", () => {
    let checked = 0;
    for (const [stack, resources] of each()) {
      for (const writer of writersOf(stack, resources).writers) {
        const id = writer.name.split('/')[1]?.split(':')[0] as string;
        const resource = resources[id] as Resource;
        const roleId = roleOf(resource);
        if (!roleId) continue;
        checked += 1;
        expect({ role: `${stack}/${roleId}`, managed: resources[roleId]?.Properties?.ManagedPolicyArns }).toEqual({
          role: `${stack}/${roleId}`,
          managed: undefined,
        });
        const logStatements = statementsOfRole(resources, roleId).filter((statement) =>
          asList(statement.Action).some((action) => String(action).startsWith('logs:')),
        );
        expect({ role: `${stack}/${roleId}`, logs: logStatements }).toEqual({
          role: `${stack}/${roleId}`,
          logs: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::GetAtt': [writer.logGroup, 'Arn'] },
            },
          ],
        });
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  test("no CDK log-retention function is left: every group's retention is in the template", () => {
    for (const [, resources] of each()) {
      expect(Object.values(resources).filter((resource) => resource.Type === 'Custom::LogRetention')).toEqual([]);
    }
  });
});
