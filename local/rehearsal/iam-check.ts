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
 * `@cloud-copilot/iam-simulate`: the role's identity policies and, for a KMS key, the key
 * policy (which must let the account's IAM policies, or the role itself, use the key).
 */
export async function evaluate(request: AwsRequest, fn: DeployedFunction, deployment: Deployment): Promise<IamVerdict> {
  const keyPolicy = request.action.startsWith('kms:') ? keyPolicyOf(deployment, request.resource) : undefined;
  if (request.action.startsWith('kms:') && !keyPolicy)
    return { allowed: false, reason: `no key ${request.resource} in the app` };
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
    ...(keyPolicy ? { resourcePolicy: keyPolicy } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error')
    return { allowed: false, reason: `simulation error: ${JSON.stringify(result.errors)}` };
  if (result.overallResult === 'Allowed') return { allowed: true };
  return { allowed: false, reason: denialReason(result.overallResult, keyPolicy !== undefined, fn) };
}

function denialReason(outcome: string, withKeyPolicy: boolean, fn: DeployedFunction): string {
  if (outcome === 'ExplicitlyDenied') return 'an explicit Deny statement';
  const policies = fn.identityPolicies.map(({ name }) => name).join(', ') || 'none';
  return withKeyPolicy
    ? `no Allow for the role in its identity policies (${policies}) with a key policy that lets it use the key`
    : `no Allow statement in the role's identity policies (${policies})`;
}

function keyPolicyOf(deployment: Deployment, keyArn: string): PolicyDocument | undefined {
  const region = keyArn.split(':')[3] as string;
  const key = deployment
    .resourcesIn(region, 'AWS::KMS::Key')
    .find(({ stack, id }) => deployment.app.resolve(stack, { 'Fn::GetAtt': [id, 'Arn'] }) === keyArn);
  return key?.props.KeyPolicy as PolicyDocument | undefined;
}
