import {
  AdminInitiateAuthCommand,
  type AdminInitiateAuthCommandOutput,
  AdminRespondToAuthChallengeCommand,
  type AdminRespondToAuthChallengeCommandOutput,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { totp } from './totp';

/*
 * The canary's sign-in. The user pool requires MFA (TOTP), so a dedicated canary user
 * signs in the way an administrator's tool would: AdminInitiateAuth with
 * ADMIN_USER_PASSWORD_AUTH (IAM-authorized, never offered to browsers), then
 * AdminRespondToAuthChallenge with a code computed from the user's TOTP secret. The
 * username, password and secret are read from a Secrets Manager secret.
 */

export const NOT_ENROLLED =
  "canary user not enrolled: each deploy enrols it (the stack's CanaryIdentity trigger); see docs/operations.md#canary-user";

/** What the secret holds, as JSON. */
export interface CanaryCredentials {
  readonly username: string;
  readonly password: string;
  /** The base32 secret `AssociateSoftwareToken` returned when the user was enrolled. */
  readonly totpSecret: string;
}

/** The two SDK clients, as far as the sign-in uses them (tests pass fakes). */
export interface CognitoTokenSourceClients {
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
}

export interface CognitoTokenSourceOptions {
  readonly secretArn: string;
  readonly userPoolId: string;
  /** The app client whose tokens the API accepts; it must allow ALLOW_ADMIN_USER_PASSWORD_AUTH. */
  readonly clientId: string;
  /** Region of the user pool (the jurisdiction's primary region). */
  readonly userPoolRegion: string;
  /** @default SDK clients for the pool's region and the secret's region */
  readonly clients?: CognitoTokenSourceClients;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * A token is signed in again this long before it expires.
   * @default 300000 (5 minutes)
   */
  readonly refreshMarginMs?: number;
}

/**
 * ID tokens of the canary user, signed in once and reused until shortly before expiry
 * (a warm canary signs in about once an hour, not every run, and never reuses a TOTP
 * code within its 30-second step).
 */
export class CognitoTokenSource {
  private readonly clients: CognitoTokenSourceClients;
  private readonly now: () => number;
  private cached?: { token: string; expiresAt: number };

  constructor(private readonly options: CognitoTokenSourceOptions) {
    this.clients = options.clients ?? {
      cognito: new CognitoIdentityProviderClient({ region: options.userPoolRegion }),
      secrets: new SecretsManagerClient({ region: regionOfArn(options.secretArn) }),
    };
    this.now = options.now ?? Date.now;
  }

  async token(): Promise<string> {
    const margin = this.options.refreshMarginMs ?? 300_000;
    if (this.cached && this.cached.expiresAt - margin > this.now()) return this.cached.token;
    this.cached = await this.signIn();
    return this.cached.token;
  }

  /** Drops the cached token, e.g. after the API refused it; the next call signs in again. */
  forget(): void {
    this.cached = undefined;
  }

  private async signIn(): Promise<{ token: string; expiresAt: number }> {
    const credentials = await this.credentials();
    const { userPoolId, clientId } = this.options;
    const started = this.now();
    let answer: AdminInitiateAuthCommandOutput | AdminRespondToAuthChallengeCommandOutput =
      await this.clients.cognito.send(
        new AdminInitiateAuthCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: credentials.username, PASSWORD: credentials.password },
        }),
      );
    // At most: an MFA-type choice, then the TOTP code.
    for (let round = 0; round < 3 && !answer.AuthenticationResult; round++) {
      const challenge = answer.ChallengeName;
      // Cognito names the user by its internal username in challenge parameters.
      const username = answer.ChallengeParameters?.USER_ID_FOR_SRP ?? credentials.username;
      let responses: Record<string, string>;
      if (challenge === 'SOFTWARE_TOKEN_MFA') {
        responses = { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: totp(credentials.totpSecret, { atMs: this.now() }) };
      } else if (challenge === 'SELECT_MFA_TYPE') {
        responses = { USERNAME: username, ANSWER: 'SOFTWARE_TOKEN_MFA' };
      } else if (challenge === 'MFA_SETUP') {
        throw new Error(`${NOT_ENROLLED} (the user has no authenticator registered: Cognito asks for MFA_SETUP)`);
      } else {
        throw new Error(`canary sign-in stopped at Cognito challenge ${challenge ?? '(none)'}; see docs/operations.md`);
      }
      answer = await this.clients.cognito.send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: userPoolId,
          ClientId: clientId,
          ChallengeName: challenge,
          Session: answer.Session,
          ChallengeResponses: responses,
        }),
      );
    }
    const result = answer.AuthenticationResult;
    if (!result?.IdToken) throw new Error('canary sign-in ended without an ID token');
    return { token: result.IdToken, expiresAt: started + (result.ExpiresIn ?? 3600) * 1000 };
  }

  private async credentials(): Promise<CanaryCredentials> {
    let text: string | undefined;
    try {
      const answer = await this.clients.secrets.send(new GetSecretValueCommand({ SecretId: this.options.secretArn }));
      text = answer.SecretString;
    } catch (error) {
      // A secret created without a value has no AWSCURRENT version yet.
      if ((error as { name?: string }).name === 'ResourceNotFoundException') {
        throw new Error(`${NOT_ENROLLED} (${(error as Error).message})`);
      }
      throw error;
    }
    return parseCredentials(text);
  }
}

/** The secret's JSON, or the not-enrolled error: never quotes the secret's content. */
export function parseCredentials(text: string | undefined): CanaryCredentials {
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`${NOT_ENROLLED} (the secret is not JSON)`);
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const fields = {
    username: nonBlank(record.username),
    password: nonBlank(record.password),
    totpSecret: nonBlank(record.totpSecret),
  };
  const { username, password, totpSecret } = fields;
  if (username === undefined || password === undefined || totpSecret === undefined) {
    const missing = Object.entries(fields).flatMap(([field, value]) => (value === undefined ? [field] : []));
    throw new Error(`${NOT_ENROLLED} (the secret has no ${missing.join(', ')})`);
  }
  return { username, password, totpSecret };
}

/** The value if it is a string with more than white space in it. */
function nonBlank(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>` → region. */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`not an ARN with a region: ${arn}`);
  return region;
}
