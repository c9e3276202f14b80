import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { CommercePlatform } from '../../lib/commerce-platform';
import { CanaryIdentity } from '../../lib/identity/canary-identity';
import { RegionalSigningKeys } from '../../lib/identity/regional-signing-keys';
import { type CfnTemplate, DeployedApp, type DeployedStack } from './intrinsics';
import type { FunctionScope } from './recorder';

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, any>[];
}

/** A function as its region would run it: role, policies, environment and network, all resolved. */
export interface DeployedFunction {
  readonly scope: FunctionScope;
  readonly stack: DeployedStack;
  readonly roleArn: string;
  readonly identityPolicies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** The role's permissions boundary, when it has one. */
  readonly permissionsBoundary?: { readonly name: string; readonly policy: PolicyDocument };
  readonly environment: Readonly<Record<string, string>>;
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}

/** The synthesized app with its functions identified by the scope the rehearsal runs them as. */
export class Deployment {
  constructor(
    readonly app: DeployedApp,
    readonly functions: readonly DeployedFunction[],
  ) {}

  function(scope: FunctionScope): DeployedFunction | undefined {
    return this.functions.find((fn) => fn.scope.region === scope.region && fn.scope.function === scope.function);
  }
}

/** The deployment `platform` synthesizes to `templates` (by stack name). */
export function deploymentOf(platform: CommercePlatform, templates: Readonly<Record<string, CfnTemplate>>): Deployment {
  const stacks = [platform.edge, ...Object.values(platform.stateful), ...Object.values(platform.stateless)];
  const app = new DeployedApp(
    stacks.map((stack) => ({
      name: stack.stackName,
      region: stack.region,
      account: stack.account,
      template: required(templates, stack.stackName),
    })),
  );
  const functions = functionsOf(platform).map(([scope, fn]) => deployedFunction(app, scope, fn));
  return new Deployment(app, functions);
}

/** Where a Lambda function and a Synthetics canary keep their role, variables and network. */
function runSettings(type: string, props: Record<string, any>) {
  return type === 'AWS::Synthetics::Canary'
    ? { role: props.ExecutionRoleArn, variables: props.RunConfig?.EnvironmentVariables, vpc: props.VpcConfig }
    : { role: props.Role, variables: props.Environment?.Variables, vpc: props.VpcConfig };
}

function deployedFunction(app: DeployedApp, scope: FunctionScope, runner: IConstruct): DeployedFunction {
  const cdkStack = Stack.of(runner);
  const stack = app.stack(cdkStack.stackName);
  const logicalId = cdkStack.getLogicalId(runner.node.defaultChild as CfnElement);
  const resource = stack.template.Resources[logicalId];
  const settings = runSettings(resource?.Type ?? '', app.resolve(stack, resource?.Properties ?? {}));
  const roleArn = String(settings.role);
  const roleName = roleArn.split('/').pop() as string;
  const roleEntry = Object.entries(stack.template.Resources).find(
    ([id, candidate]) => candidate.Type === 'AWS::IAM::Role' && app.resolve(stack, { Ref: id }) === roleName,
  );
  const roleProps = roleEntry ? app.resolve(stack, roleEntry[1].Properties ?? {}) : {};
  return {
    scope,
    stack,
    roleArn,
    identityPolicies: [...inlinePolicies(roleProps), ...attachedPolicies(app, stack.region, roleName)],
    ...(roleProps.PermissionsBoundary
      ? { permissionsBoundary: boundaryOf(app, stack.region, String(roleProps.PermissionsBoundary)) }
      : {}),
    environment: settings.variables ?? {},
    vpc: settings.vpc && {
      subnetIds: settings.vpc.SubnetIds ?? [],
      securityGroupIds: settings.vpc.SecurityGroupIds ?? [],
    },
  };
}

/** `AWS::IAM::Policy` and customer managed policies of any stack in the region naming the role. */
function attachedPolicies(app: DeployedApp, region: string, roleName: string) {
  return ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
    app
      .resourcesIn(region, type)
      .filter(({ props }) => ((props.Roles ?? []) as string[]).includes(roleName))
      .map(({ id, props }) => ({ name: id, policy: props.PolicyDocument as PolicyDocument })),
  );
}

/** A boundary must be a customer managed policy of the app: an AWS managed one is not known here. */
function boundaryOf(app: DeployedApp, region: string, arn: string) {
  const found = app
    .resourcesIn(region, 'AWS::IAM::ManagedPolicy')
    .find(({ stack, id }) => app.resolve(stack, { Ref: id }) === arn);
  if (!found)
    throw new Error(`permissions boundary ${arn} is not a managed policy of the app: the rehearsal cannot read it`);
  return { name: found.id, policy: found.props.PolicyDocument as PolicyDocument };
}

function inlinePolicies(roleProps: Record<string, any>) {
  return ((roleProps.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[]).map((policy) => ({
    name: policy.PolicyName,
    policy: policy.PolicyDocument,
  }));
}

/** The functions (and canaries) whose code the rehearsal runs, by the scope it runs each as. */
function functionsOf(platform: CommercePlatform): [FunctionScope, IConstruct][] {
  const found: [FunctionScope, IConstruct][] = [];
  for (const [region, stack] of Object.entries(platform.stateless)) {
    for (const [domain, fn] of Object.entries(stack.api.functions))
      found.push([{ region, function: `api:${domain}` }, fn]);
    found.push([{ region, function: 'authorizer' }, stack.api.authorizerFunction]);
    const signingKeys = stack.node.tryFindChild('SigningKeys');
    if (signingKeys instanceof RegionalSigningKeys)
      found.push([{ region, function: 'signing-keys' }, signingKeys.function]);
    const canary = stack.node.tryFindChild('CanaryIdentity');
    if (canary instanceof CanaryIdentity) found.push([{ region, function: 'canary-identity' }, canary.function]);
    for (const [name, walk] of Object.entries(stack.canaries))
      found.push([{ region, function: `canary:${name.toLowerCase()}` }, walk.canary]);
  }
  for (const [region, stack] of Object.entries(platform.stateful))
    found.push([{ region, function: 'migrations' }, stack.migrations.function]);
  return found;
}

function required<T>(record: Readonly<Record<string, T>>, key: string): T {
  const value = record[key];
  if (value === undefined) throw new Error(`no template for stack ${key}`);
  return value;
}
