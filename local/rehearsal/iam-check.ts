import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { AwsRequest } from './aws-requests';
import type { DeployedFunction, Deployment, PolicyDocument } from './deployment';

export interface IamVerdict {
  readonly allowed: boolean;
  /** What denied it, for the report: which policy lacks a statement, or the simulator's errors. */
  readonly reason?: string;
}

/**
 * Evaluates `request` made by `fn`'s role as IAM would in the deployed account, with
 * `@cloud-copilot/iam-simulate`: the role's identity policies, its permissions boundary, and
 * the resource's own policy where it has one: a KMS key's policy (which must let the
 * account's IAM policies, or the role itself, use the key) or a secret's resource policy.
 */
export async function evaluate(request: AwsRequest, fn: DeployedFunction, deployment: Deployment): Promise<IamVerdict> {
  const isKey = request.action.startsWith('kms:');
  const resourcePolicy = isKey ? keyPolicyOf(deployment, request.resource) : secretPolicyOf(deployment, request);
  if (isKey && !resourcePolicy) return { allowed: false, reason: `no key ${request.resource} in the app` };
  const simulation: Simulation = {
    request: {
      principal: fn.roleArn,
      action: request.action,
      resource: { resource: request.resource, accountId: fn.stack.account },
      contextVariables: {
        'aws:PrincipalArn': fn.roleArn,
        'aws:PrincipalAccount': fn.stack.account,
        'aws:RequestedRegion': fn.scope.region,
        'aws:SecureTransport': 'true',
        ...request.context,
      },
    },
    identityPolicies: fn.identityPolicies.map(({ name, policy }) => ({ name, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(fn.permissionsBoundary ? { permissionBoundaryPolicies: [fn.permissionsBoundary] } : {}),
    ...(resourcePolicy ? { resourcePolicy } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error')
    return { allowed: false, reason: `simulation error: ${JSON.stringify(result.errors)}` };
  if (result.overallResult === 'Allowed') return { allowed: true };
  const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
  return { allowed: false, reason: denialReason(analysis, isKey, fn) };
}

interface ExplainedCondition {
  readonly operator: string;
  readonly conditionKeyValue: string;
  readonly matches: boolean;
  readonly values: readonly { readonly value: string }[];
}

type Analysis = Extract<Awaited<ReturnType<typeof runSimulation>>, { resultType: 'single' }>['result']['analysis'];

/** Which statement denied it, or which one would allow it but for its condition, or that none does. */
function denialReason(analysis: Analysis | undefined, isKey: boolean, fn: DeployedFunction): string {
  const identity = analysis?.identityAnalysis;
  const deny = [...(identity?.denyStatements ?? []), ...(analysis?.resourceAnalysis?.denyStatements ?? [])][0];
  if (deny) return `denied by a Deny statement of ${deny.policyId ?? 'the resource policy'}`;
  const nearMiss = identity?.unmatchedStatements.find(
    (statement) => statement.actionMatch && statement.resourceMatch && statement.conditionMatch === 'NoMatch',
  );
  if (nearMiss) {
    const conditions = ((nearMiss.explain as { conditions?: ExplainedCondition[] }).conditions ?? [])
      .filter((condition) => !condition.matches)
      .map((c) => `${c.operator} ${c.conditionKeyValue} ${JSON.stringify(c.values.map((v) => v.value))}`);
    return `statement ${nearMiss.explain.identifier} of ${nearMiss.policyId} allows it only when ${conditions.join(' and ')}`;
  }
  if (identity?.result === 'Allowed' && isKey)
    return "the key policy lets neither the account's IAM policies nor the role use the key";
  if (identity?.result === 'Allowed') return "the role's permissions boundary does not allow it";
  const policies = fn.identityPolicies.map(({ name }) => name).join(', ') || 'none';
  return `no Allow statement for it in the role's identity policies (${policies})`;
}

function keyPolicyOf(deployment: Deployment, keyArn: string): PolicyDocument | undefined {
  const region = keyArn.split(':')[3] as string;
  const key = deployment.app
    .resourcesIn(region, 'AWS::KMS::Key')
    .find(({ stack, id }) => deployment.app.resolve(stack, { 'Fn::GetAtt': [id, 'Arn'] }) === keyArn);
  return key?.props.KeyPolicy as PolicyDocument | undefined;
}

function secretPolicyOf(deployment: Deployment, request: AwsRequest): PolicyDocument | undefined {
  if (!request.action.startsWith('secretsmanager:')) return undefined;
  const region = request.resource.split(':')[3] as string;
  return deployment.app
    .resourcesIn(region, 'AWS::SecretsManager::ResourcePolicy')
    .find(({ props }) => props.SecretId === request.resource)?.props.ResourcePolicy as PolicyDocument | undefined;
}
