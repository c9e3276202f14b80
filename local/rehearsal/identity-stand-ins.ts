import { totp } from '../../lambda/canary/totp';
import { meetsPoolPolicy } from '../../lambda/canary-identity/password';

/*
 * In-memory stand-ins for the three services the canary identity function calls, for its
 * unit tests and the deploy rehearsal. There is no local Cognito engine (nothing on npm
 * emulates user pools with TOTP MFA), so the pool below models what the function relies on,
 * as the Cognito API reference describes it: a pool with MFA required and TOTP only, its
 * password policy, e-mail usernames mapped to an internal username (the sub), MFA_SETUP for
 * users without an authenticator, TOTP codes refused when wrong or already used. Calls are
 * recorded by command name with their input.
 */

type Input = Record<string, any>;

export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

export abstract class FakeService {
  readonly calls: { command: string; input: Input }[] = [];
  /** Thrown once by the next call of the named command. */
  readonly failures = new Map<string, Error>();

  send(command: { constructor: { name: string }; input: object }): Promise<any> {
    return this.answer(command.constructor.name.replace(/Command$/, ''), command.input as Input);
  }

  /** The service's answer to `name` (an operation, e.g. `AdminCreateUser`) with `input`. */
  async answer(name: string, input: Input): Promise<any> {
    this.calls.push({ command: name, input });
    const failure = this.failures.get(name);
    if (failure) {
      this.failures.delete(name);
      throw failure;
    }
    const handler = (this as unknown as Record<string, (input: Input) => unknown>)[name];
    if (typeof handler !== 'function') throw new Error(`fake ${this.constructor.name} has no ${name}`);
    return { $metadata: {}, ...((await handler.call(this, input)) as object) };
  }

  called(command: string): Input[] {
    return this.calls.filter((call) => call.command === command).map((call) => call.input);
  }

  commands(): string[] {
    return this.calls.map((call) => call.command);
  }
}

interface PoolUser {
  readonly sub: string;
  email: string;
  password: string;
  permanent: boolean;
  totpSecret?: string;
  totpEnabled: boolean;
  lastCode?: string;
}

interface Session {
  readonly sub: string;
  readonly kind: 'MFA_SETUP' | 'SOFTWARE_TOKEN_MFA' | 'ASSOCIATED' | 'VERIFIED';
  pendingSecret?: string;
}

export class FakeUserPool extends FakeService {
  readonly users = new Map<string, PoolUser>();
  private readonly sessions = new Map<string, Session>();
  private serial = 0;
  /** The secret handed out by the next AssociateSoftwareToken. */
  nextTotpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
  /**
   * The pool's MFA configuration: `ON` (required, as lib/identity/user-directory.ts sets it)
   * or `OFF`. Required: a user without an authenticator is asked for MFA_SETUP, and TOTP
   * cannot be switched off for a user. Off: a sign-in without an authenticator gets tokens.
   */
  mfaConfiguration: 'ON' | 'OFF' = 'ON';

  constructor(private readonly clock: { now: number }) {
    super();
  }

  /** A user as an earlier run or the old runbook left it. */
  addUser(email: string, fields: Partial<Omit<PoolUser, 'sub' | 'email'>> = {}): PoolUser {
    const user: PoolUser = {
      sub: `sub-${++this.serial}`,
      email,
      password: 'Temporary-Pa55word',
      permanent: false,
      totpEnabled: false,
      ...fields,
    };
    this.users.set(email, user);
    return user;
  }

  private userOf(username: string): PoolUser {
    const user = this.users.get(username) ?? [...this.users.values()].find((u) => u.sub === username);
    if (!user) throw awsError('UserNotFoundException', 'User does not exist.');
    return user;
  }

  private session(sub: string, kind: Session['kind'], pendingSecret?: string): string {
    const id = `session-${++this.serial}`;
    this.sessions.set(id, { sub, kind, ...(pendingSecret ? { pendingSecret } : {}) });
    return id;
  }

  private take(id: string | undefined, kind: Session['kind']): Session {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || session.kind !== kind) throw awsError('NotAuthorizedException', 'Invalid session for the user.');
    this.sessions.delete(id as string);
    return session;
  }

  private checkCode(user: PoolUser, code: string | undefined): void {
    if (!user.totpSecret || code !== totp(user.totpSecret, { atMs: this.clock.now }) || code === user.lastCode) {
      throw awsError('CodeMismatchException', 'Invalid code received for user');
    }
    user.lastCode = code;
  }

  private tokens() {
    return { AuthenticationResult: { IdToken: `id-${++this.serial}`, AccessToken: 'access', ExpiresIn: 3600 } };
  }

  AdminCreateUser(input: Input) {
    if (this.users.has(input.Username)) throw awsError('UsernameExistsException', 'User account already exists');
    const attributes = Object.fromEntries(
      (input.UserAttributes as { Name: string; Value: string }[]).map((a) => [a.Name, a.Value]),
    );
    if (attributes.email !== input.Username) throw new Error('fake pool: e-mail sign-in needs the email attribute');
    this.addUser(input.Username);
    return { User: { Username: this.userOf(input.Username).sub } };
  }

  AdminDeleteUser(input: Input) {
    const user = this.userOf(input.Username);
    this.users.delete(user.email);
    for (const [id, session] of this.sessions) if (session.sub === user.sub) this.sessions.delete(id);
    return {};
  }

  AdminSetUserPassword(input: Input) {
    if (!meetsPoolPolicy(input.Password))
      throw awsError('InvalidPasswordException', 'Password does not conform to policy');
    const user = this.userOf(input.Username);
    user.password = input.Password;
    user.permanent = input.Permanent === true;
    return {};
  }

  AdminInitiateAuth(input: Input) {
    const { USERNAME, PASSWORD } = input.AuthParameters as Record<string, string>;
    const user = this.users.get(USERNAME ?? '');
    // The client prevents user existence errors: an unknown user reads as a wrong password.
    if (!user || user.password !== PASSWORD)
      throw awsError('NotAuthorizedException', 'Incorrect username or password.');
    if (!user.permanent)
      return { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: this.session(user.sub, 'MFA_SETUP') };
    const parameters = { USER_ID_FOR_SRP: user.sub };
    if (!user.totpEnabled && this.mfaConfiguration === 'OFF') return this.tokens();
    if (!user.totpEnabled) {
      return {
        ChallengeName: 'MFA_SETUP',
        ChallengeParameters: parameters,
        Session: this.session(user.sub, 'MFA_SETUP'),
      };
    }
    return {
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      ChallengeParameters: parameters,
      Session: this.session(user.sub, 'SOFTWARE_TOKEN_MFA'),
    };
  }

  AssociateSoftwareToken(input: Input) {
    const session = this.take(input.Session, 'MFA_SETUP');
    return { SecretCode: this.nextTotpSecret, Session: this.session(session.sub, 'ASSOCIATED', this.nextTotpSecret) };
  }

  VerifySoftwareToken(input: Input) {
    const session = this.take(input.Session, 'ASSOCIATED');
    if (input.UserCode !== totp(session.pendingSecret as string, { atMs: this.clock.now })) {
      throw awsError('CodeMismatchException', 'Invalid code received for user');
    }
    const user = this.userOf(session.sub);
    user.totpSecret = session.pendingSecret;
    user.lastCode = input.UserCode;
    return { Status: 'SUCCESS', Session: this.session(session.sub, 'VERIFIED') };
  }

  AdminRespondToAuthChallenge(input: Input) {
    const responses = input.ChallengeResponses as Record<string, string>;
    if (input.ChallengeName === 'MFA_SETUP') {
      const session = this.take(input.Session, 'VERIFIED');
      const user = this.userOf(responses.USERNAME as string);
      if (user.sub !== session.sub) throw awsError('NotAuthorizedException', 'Invalid session for the user.');
      user.totpEnabled = true;
      return this.tokens();
    }
    if (input.ChallengeName === 'SOFTWARE_TOKEN_MFA') {
      const session = this.take(input.Session, 'SOFTWARE_TOKEN_MFA');
      const user = this.userOf(responses.USERNAME as string);
      if (user.sub !== session.sub) throw awsError('NotAuthorizedException', 'Invalid session for the user.');
      this.checkCode(user, responses.SOFTWARE_TOKEN_MFA_CODE);
      return this.tokens();
    }
    throw new Error(`fake pool: no challenge ${input.ChallengeName}`);
  }

  AdminSetUserMFAPreference(input: Input) {
    const user = this.userOf(input.Username);
    const settings = input.SoftwareTokenMfaSettings as { Enabled: boolean };
    // SoftwareTokenMfaSettingsType: "You can't turn off TOTP MFA for any of your users when
    // MFA is required in your user pool". (The reference names no error; this one is a guess.)
    if (!settings.Enabled && this.mfaConfiguration === 'ON')
      throw awsError('InvalidParameterException', "TOTP MFA can't be turned off: MFA is required in this user pool");
    if (settings.Enabled && !user.totpSecret)
      throw awsError('InvalidParameterException', 'User has not verified software token mfa');
    user.totpEnabled = settings.Enabled;
    return {};
  }
}

interface Version {
  /** Absent on the version Secrets Manager labels AWSPENDING when a rotation starts. */
  string?: string;
  stages: string[];
}

export class FakeSecrets extends FakeService {
  readonly versions = new Map<string, Version>();
  rotationEnabled = true;
  private serial = 0;

  /** A version as the secret holds it, e.g. the random string CloudFormation created it with. */
  addVersion(string: string | undefined, stages: string[], id = `v${++this.serial}`): string {
    this.versions.set(id, { ...(string === undefined ? {} : { string }), stages });
    return id;
  }

  /** What RotateSecret does before it calls the function: a version id labelled AWSPENDING, no value yet. */
  startRotation(token: string): void {
    this.moveStage('AWSPENDING', '');
    this.addVersion(undefined, ['AWSPENDING'], token);
  }

  stagesOf(id: string): string[] | undefined {
    return this.versions.get(id)?.stages;
  }

  current(): Record<string, string> | undefined {
    const version = [...this.versions.values()].find((v) => v.stages.includes('AWSCURRENT'));
    return version?.string ? JSON.parse(version.string) : undefined;
  }

  private moveStage(stage: string, to: string) {
    for (const version of this.versions.values()) version.stages = version.stages.filter((s) => s !== stage);
    this.versions.get(to)?.stages.push(stage);
  }

  GetSecretValue(input: Input) {
    const stage = input.VersionStage ?? 'AWSCURRENT';
    const entry = [...this.versions.entries()].find(
      ([id, v]) =>
        (input.VersionId === undefined || id === input.VersionId) && v.stages.includes(stage) && v.string !== undefined,
    );
    if (!entry) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value");
    return { ARN: input.SecretId, VersionId: entry[0], SecretString: entry[1].string, VersionStages: entry[1].stages };
  }

  PutSecretValue(input: Input) {
    const id = input.ClientRequestToken ?? `v${++this.serial}`;
    const stages = (input.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
    if (stages.includes('AWSCURRENT')) {
      const previous = [...this.versions.entries()].find(([, v]) => v.stages.includes('AWSCURRENT'));
      this.moveStage('AWSPREVIOUS', previous?.[0] ?? '');
      if (previous) previous[1].stages = previous[1].stages.filter((s) => s !== 'AWSCURRENT');
    }
    const existing = this.versions.get(id);
    if (existing?.string !== undefined && existing.string !== input.SecretString) {
      throw awsError('ResourceExistsException', 'A version with this token exists with another value');
    }
    if (stages.includes('AWSPENDING')) this.moveStage('AWSPENDING', '');
    this.versions.set(id, {
      string: input.SecretString,
      stages: [...new Set([...(existing?.stages ?? []), ...stages])],
    });
    return { VersionId: id };
  }

  DescribeSecret() {
    return {
      RotationEnabled: this.rotationEnabled,
      // Only versions with a staging label: the others are deprecated.
      VersionIdsToStages: Object.fromEntries(
        [...this.versions.entries()].filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]]),
      ),
    };
  }

  UpdateSecretVersionStage(input: Input) {
    const from = this.versions.get(input.RemoveFromVersionId);
    if (input.RemoveFromVersionId && !from?.stages.includes(input.VersionStage)) {
      throw awsError('InvalidParameterException', 'The stage is not on the version to remove it from');
    }
    if (input.VersionStage === 'AWSCURRENT' && input.RemoveFromVersionId)
      this.moveStage('AWSPREVIOUS', input.RemoveFromVersionId);
    this.moveStage(input.VersionStage, input.MoveToVersionId);
    return {};
  }
}

export class FakeTable extends FakeService {
  readonly items = new Map<string, Input>();

  PutItem(input: Input) {
    const key = `${input.Item.pk.S}|${input.Item.sk.S}`;
    if (input.ConditionExpression !== 'attribute_not_exists(pk)') throw new Error('fake table: unexpected condition');
    if (this.items.has(key)) throw awsError('ConditionalCheckFailedException', 'The conditional request failed');
    this.items.set(key, input.Item);
    return {};
  }
}
