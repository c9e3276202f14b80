import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminInitiateAuthCommand,
  type AdminInitiateAuthCommandOutput,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { totp } from '../canary/totp';
import { ensureCanaryProduct } from './canary-product';
import {
  type CanaryIdentityDependencies,
  credentialsJson,
  errorName,
  isRejection,
  readVersion,
  type StoredVersion,
  signIn,
} from './identity';
import { generatePassword } from './password';

export interface EnrolmentResult {
  /**
   * `unchanged`: the secret's credentials (AWSCURRENT) signed in; `promoted`: a rotation's
   * pending credentials signed in instead (a deploy between its setSecret and finishSecret)
   * and were made AWSCURRENT; `enrolled`: new ones were set and stored.
   */
  readonly user: 'unchanged' | 'promoted' | 'enrolled';
  /**
   * `existing`: the user was there already (an earlier partial run); `recreated`: it had a
   * TOTP authenticator nobody holds (enrolled by hand, or the secret was re-created), which a
   * pool that requires MFA cannot switch off, so it was deleted and created again.
   */
  readonly account?: 'created' | 'existing' | 'recreated';
  readonly product: 'created' | 'exists';
}

/** Sign-in answers that say the user has an MFA factor already (and so no MFA_SETUP). */
const HAS_AUTHENTICATOR = new Set(['SOFTWARE_TOKEN_MFA', 'SELECT_MFA_TYPE']);

/**
 * Makes the canary user sign in with what the secret holds; run by the deploy (a CDK
 * trigger) and safe to run on every deploy. When the secret's credentials sign in,
 * nothing changes; when a rotation's pending ones do (the rotation has set them on the
 * user but not finished), they are made current. Otherwise: a new password, the user
 * created (no invitation, e-mail verified) or, if it exists, its password reset; a user
 * that has an authenticator already is deleted and created again (see below); a new TOTP
 * authenticator registered through the MFA_SETUP challenge and made the preferred MFA;
 * and only then the secret written, so an interrupted run leaves the old value and the
 * next run starts over.
 */
export async function enrol(deps: CanaryIdentityDependencies): Promise<EnrolmentResult> {
  const { config } = deps;
  const log = deps.log ?? (() => {});
  const product = await ensureCanaryProduct(deps);

  const current = await readVersion(deps, { VersionStage: 'AWSCURRENT' });
  if (await signsIn(deps, current, 'AWSCURRENT')) {
    log('the canary user signs in with the stored credentials; nothing to do', { username: config.username });
    return { user: 'unchanged', product };
  }
  const pending = await readVersion(deps, { VersionStage: 'AWSPENDING' });
  if (pending && pending.versionId !== current?.versionId && (await signsIn(deps, pending, 'AWSPENDING'))) {
    // What finishSecret would do; the rotation's remaining steps then find the version
    // AWSCURRENT already and do nothing.
    await deps.clients.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: config.secretArn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.versionId,
        ...(current ? { RemoveFromVersionId: current.versionId } : {}),
      }),
    );
    log("the rotation's pending credentials sign in; made them current", { username: config.username });
    return { user: 'promoted', product };
  }

  const password = generatePassword();
  let account: NonNullable<EnrolmentResult['account']> = await createOrReset(deps, password);
  let answer = await initiate(deps, password);
  if (answer.ChallengeName && HAS_AUTHENTICATOR.has(answer.ChallengeName)) {
    // Its authenticator's secret is lost, and a pool that requires MFA cannot switch a
    // user's TOTP off (SoftwareTokenMfaSettingsType in the Cognito API reference): only a
    // new user is asked for MFA_SETUP. The user is the canary's own and holds nothing else.
    log('the user has an authenticator nobody holds; deleting and creating it again', { username: config.username });
    await deps.clients.cognito.send(
      new AdminDeleteUserCommand({ UserPoolId: config.userPoolId, Username: config.username }),
    );
    await createOrReset(deps, password);
    account = 'recreated';
    answer = await initiate(deps, password);
  }
  const totpSecret = await registerAuthenticator(deps, answer);
  await deps.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: config.secretArn,
      SecretString: credentialsJson({ username: config.username, password, totpSecret }),
      // AWSPENDING too, taken from whatever version had it: a rotation under way (or one
      // that failed) must not set or promote credentials older than these, and Secrets
      // Manager starts no new rotation while AWSPENDING is on another version than AWSCURRENT.
      VersionStages: ['AWSCURRENT', 'AWSPENDING'],
    }),
  );
  log('canary user enrolled and its credentials stored', { username: config.username, account });
  return { user: 'enrolled', account, product };
}

/**
 * Whether the version's credentials, if it holds some of this user, sign in. A rejection
 * (wrong password, lost authenticator, no user) is false; throttling or an outage is thrown,
 * so it never resets a working user: the deploy fails and is retried.
 */
async function signsIn(
  deps: CanaryIdentityDependencies,
  version: StoredVersion | undefined,
  stage: 'AWSCURRENT' | 'AWSPENDING',
): Promise<boolean> {
  const { username } = deps.config;
  const credentials = version?.credentials;
  if (!credentials || credentials.username !== username) {
    if (stage === 'AWSCURRENT') deps.log?.('the secret holds no credentials of this user yet', { username });
    return false;
  }
  try {
    await signIn(deps, credentials);
    return true;
  } catch (error) {
    if (!isRejection(error)) throw error;
    deps.log?.('stored credentials do not sign in', { stage, reason: errorName(error) ?? 'sign-in' });
    return false;
  }
}

function initiate(deps: CanaryIdentityDependencies, password: string): Promise<AdminInitiateAuthCommandOutput> {
  const { userPoolId, clientId, username } = deps.config;
  return deps.clients.cognito.send(
    new AdminInitiateAuthCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
}

async function createOrReset(deps: CanaryIdentityDependencies, password: string): Promise<'created' | 'existing'> {
  const { userPoolId, username } = deps.config;
  let account: 'created' | 'existing' = 'created';
  try {
    await deps.clients.cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: username },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'UsernameExistsException') throw error;
    account = 'existing';
  }
  // Permanent: no NEW_PASSWORD_REQUIRED challenge at the next sign-in.
  await deps.clients.cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: username,
      Password: password,
      Permanent: true,
    }),
  );
  return account;
}

/**
 * Answers the new password's sign-in, which must be MFA_SETUP, with a new authenticator;
 * returns its base32 secret.
 */
async function registerAuthenticator(
  deps: CanaryIdentityDependencies,
  answer: AdminInitiateAuthCommandOutput,
): Promise<string> {
  const { userPoolId, clientId, username } = deps.config;
  const now = deps.now ?? Date.now;
  if (answer.ChallengeName !== 'MFA_SETUP' || !answer.Session) {
    throw new Error(
      `canary enrolment: Cognito answered the sign-in of ${username} with ${answer.ChallengeName ?? 'tokens'}, not MFA_SETUP; ` +
        'the pool must require TOTP MFA (lib/identity/user-directory.ts, docs/operations.md#canary-user)',
    );
  }
  const internalUsername = answer.ChallengeParameters?.USER_ID_FOR_SRP ?? username;

  const association = await deps.clients.cognito.send(new AssociateSoftwareTokenCommand({ Session: answer.Session }));
  const totpSecret = association.SecretCode;
  if (!totpSecret || !association.Session)
    throw new Error('canary enrolment: AssociateSoftwareToken returned no secret');
  const verified = await deps.clients.cognito.send(
    new VerifySoftwareTokenCommand({
      Session: association.Session,
      UserCode: totp(totpSecret, { atMs: now() }),
      FriendlyDeviceName: 'canary',
    }),
  );
  if (verified.Status !== 'SUCCESS' || !verified.Session) {
    throw new Error(`canary enrolment: VerifySoftwareToken answered ${verified.Status ?? 'no status'}`);
  }
  const done = await deps.clients.cognito.send(
    new AdminRespondToAuthChallengeCommand({
      UserPoolId: userPoolId,
      ClientId: clientId,
      ChallengeName: 'MFA_SETUP',
      Session: verified.Session,
      ChallengeResponses: { USERNAME: internalUsername },
    }),
  );
  if (!done.AuthenticationResult) {
    throw new Error(`canary enrolment: MFA_SETUP ended with ${done.ChallengeName ?? 'no tokens'}`);
  }
  await deps.clients.cognito.send(
    new AdminSetUserMFAPreferenceCommand({
      UserPoolId: userPoolId,
      Username: username,
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    }),
  );
  return totpSecret;
}
