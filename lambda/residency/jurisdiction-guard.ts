/**
 * The runtime residency guard (docs/design.md#residency, third guard): a region serves only users of its
 * own jurisdiction. A user's home jurisdiction is the user pool that issued their token —
 * fixed at sign-up, cryptographically bound to the token, and readable without touching
 * any store. Pure, so the refusal is decided before a handler can read or write anything.
 */

import { type FunctionEnvironment, optionalEnv } from '../shared/environment';

/** Where each jurisdiction's user pool lives and where its users should go instead. */
export interface JurisdictionDirectory {
  /** Primary region → jurisdiction name: a Cognito issuer URL names its pool's region. */
  readonly byPrimaryRegion: Readonly<Record<string, string>>;
  /** Jurisdiction name → its API hostname, for the refusal's "go here". */
  readonly apiHosts: Readonly<Record<string, string>>;
}

const COGNITO_ISSUER = /^https:\/\/cognito-idp\.([a-z0-9-]+)\.amazonaws\.com\/[\w-]+$/;

/** The jurisdiction a token's issuer belongs to, or undefined for an issuer we do not know. */
export function homeJurisdictionOf(issuer: unknown, directory: JurisdictionDirectory): string | undefined {
  if (typeof issuer !== 'string') return undefined;
  const region = COGNITO_ISSUER.exec(issuer)?.[1];
  return region === undefined ? undefined : directory.byPrimaryRegion[region];
}

export type GuardVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly homeJurisdiction?: string; readonly apiHost?: string };

/** Whether this region may serve the token's user at all. */
export function guardJurisdiction(
  issuer: unknown,
  servingJurisdiction: string,
  directory: JurisdictionDirectory,
): GuardVerdict {
  const home = homeJurisdictionOf(issuer, directory);
  if (home === servingJurisdiction) return { allowed: true };
  return { allowed: false, homeJurisdiction: home, apiHost: home ? directory.apiHosts[home] : undefined };
}

/** The directory from `JURISDICTION_DIRECTORY` (JSON the stack writes from the topology). */
export function jurisdictionDirectoryFrom(env: FunctionEnvironment): JurisdictionDirectory {
  const raw = optionalEnv(env, 'JURISDICTION_DIRECTORY');
  if (!raw) return { byPrimaryRegion: {}, apiHosts: {} };
  const parsed = JSON.parse(raw) as JurisdictionDirectory;
  return { byPrimaryRegion: parsed.byPrimaryRegion ?? {}, apiHosts: parsed.apiHosts ?? {} };
}
