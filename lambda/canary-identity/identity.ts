import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CanaryCredentials,
  CognitoTokenSource,
  NOT_ENROLLED,
  parseCredentials,
} from '../canary/cognito-token-source';

/*
 * What enrolment and rotation share: where the canary user lives, the SDK clients (tests
 * pass fakes: there is no local Cognito engine to run them against), reading a version of
 * the secret, and the sign-in check, which is the canary's own sign-in.
 *
 * Nothing here logs or returns a password, a TOTP secret, a session or a token.
 */

export interface CanaryIdentityConfig {
  /** The jurisdiction's pool, in its primary region (the clients are for that region). */
  readonly userPoolId: string;
  readonly userPoolRegion: string;
  /** The app client the canaries sign in with (ALLOW_ADMIN_USER_PASSWORD_AUTH). */
  readonly clientId: string;
  /** `canary-<region>@<shop domain>`. */
  readonly username: string;
  /** The secret of the canaries' region. */
  readonly secretArn: string;
  /** The canary product, created in the jurisdiction's table when missing. */
  readonly product: { readonly tableName: string; readonly sku: string; readonly currency: string };
}

export interface CanaryIdentityClients {
  /** For the pool's region. */
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  /** For the secret's region. */
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  /** For this region's replica of the jurisdiction's table. */
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
}

/** Safe fields only: names, steps, outcomes, error names. */
export type CanaryIdentityLog = (message: string, fields?: Record<string, string | number | boolean>) => void;

export interface CanaryIdentityDependencies {
  readonly config: CanaryIdentityConfig;
  readonly clients: CanaryIdentityClients;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default nothing is logged */
  readonly log?: CanaryIdentityLog;
}

export const TOTP_STEP_MS = 30_000;

/** Errors that say the credentials do not sign in (as opposed to Cognito being unreachable or throttling). */
const REJECTIONS = new Set([
  'NotAuthorizedException',
  'UserNotFoundException',
  'CodeMismatchException',
  'PasswordResetRequiredException',
  'UserNotConfirmedException',
]);

export function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** Whether the sign-in failed because of the credentials or the user's state, not the service. */
export function isRejection(error: unknown): boolean {
  const name = errorName(error);
  if (name && REJECTIONS.has(name)) return true;
  const message = error instanceof Error ? error.message : '';
  return message.startsWith(NOT_ENROLLED) || message.startsWith('canary sign-in stopped at Cognito challenge');
}

/**
 * Signs `credentials` in as the canary does (AdminInitiateAuth, then the TOTP code).
 * Cognito refuses a TOTP code it has accepted already for the user; when the code is
 * refused, the next 30-second step's code is tried once, in case a canary run had just
 * used this one. Throws what the last attempt threw.
 */
export async function signIn(deps: CanaryIdentityDependencies, credentials: CanaryCredentials): Promise<void> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const source = new CognitoTokenSource({
    secretArn: deps.config.secretArn,
    userPoolId: deps.config.userPoolId,
    clientId: deps.config.clientId,
    userPoolRegion: deps.config.userPoolRegion,
    // The token source reads its credentials from a secret; these are handed over as one.
    clients: { cognito: deps.clients.cognito, secrets: fixedSecret(credentials) },
    now,
  });
  try {
    await source.token();
  } catch (error) {
    if (errorName(error) !== 'CodeMismatchException') throw error;
    deps.log?.('TOTP code refused; trying the next step once', { username: credentials.username });
    await sleep(TOTP_STEP_MS - (now() % TOTP_STEP_MS) + 1_000);
    source.forget();
    await source.token();
  }
}

/** A version of the secret: its id, and its credentials when it holds complete ones. */
export interface StoredVersion {
  readonly versionId: string;
  readonly credentials?: CanaryCredentials;
}

/** A version of the secret, or undefined when the version is absent or has no value yet. */
export async function readVersion(
  deps: CanaryIdentityDependencies,
  version: { readonly VersionId?: string; readonly VersionStage: 'AWSCURRENT' | 'AWSPENDING' },
): Promise<StoredVersion | undefined> {
  let answer: { VersionId?: string; SecretString?: string };
  try {
    answer = await deps.clients.secrets.send(
      new GetSecretValueCommand({ SecretId: deps.config.secretArn, ...version }),
    );
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  const versionId = answer.VersionId ?? version.VersionId ?? '';
  try {
    return { versionId, credentials: parseCredentials(answer.SecretString) };
  } catch {
    // Not (yet) credentials: e.g. the random string the secret was created with.
    return { versionId };
  }
}

/** A version of the secret as credentials, or undefined when the version is absent or incomplete. */
export async function readCredentials(
  deps: CanaryIdentityDependencies,
  version: { readonly VersionId?: string; readonly VersionStage: 'AWSCURRENT' | 'AWSPENDING' },
): Promise<CanaryCredentials | undefined> {
  return (await readVersion(deps, version))?.credentials;
}

/** The JSON the canaries read. */
export function credentialsJson(credentials: CanaryCredentials): string {
  const { username, password, totpSecret } = credentials;
  return JSON.stringify({ username, password, totpSecret });
}

function fixedSecret(credentials: CanaryCredentials): Pick<SecretsManagerClient, 'send'> {
  return { send: async () => ({ SecretString: credentialsJson(credentials), $metadata: {} }) } as Pick<
    SecretsManagerClient,
    'send'
  >;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
