import {
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  type AdminInitiateAuthCommandOutput,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { totp } from '../canary/totp';
import { ensureCanaryProduct } from './canary-product';
import {
  type CanaryIdentityDependencies,
  credentialsJson,
  errorName,
  isRejection,
  readCredentials,
  signIn,
} from './identity';
import { generatePassword } from './password';

export interface EnrolmentResult {
  /** `unchanged`: the secret's credentials signed in; `enrolled`: new ones were set and stored. */
  readonly user: 'unchanged' | 'enrolled';
  /** `existing`: the user was there already (an earlier partial run, or enrolled by hand). */
  readonly account?: 'created' | 'existing';
  readonly product: 'created' | 'exists';
}

/**
 * Makes the canary user sign in with what the secret holds; run by the deploy (a CDK
 * trigger) and safe to run on every deploy. When the secret's credentials sign in,
 * nothing changes. Otherwise: a new password, the user created (no invitation, e-mail
 * verified) or, if it exists, its password reset; a new TOTP authenticator registered
 * through the MFA_SETUP challenge and made the preferred MFA; and only then the secret
 * written, so an interrupted run leaves the old value and the next run starts over.
 */
export async function enrol(deps: CanaryIdentityDependencies): Promise<EnrolmentResult> {
  const { config } = deps;
  const log = deps.log ?? (() => {});
  const product = await ensureCanaryProduct(deps);

  const stored = await readCredentials(deps, { VersionStage: 'AWSCURRENT' });
  if (stored && stored.username === config.username) {
    try {
      await signIn(deps, stored);
      log('the canary user signs in with the stored credentials; nothing to do', { username: config.username });
      return { user: 'unchanged', product };
    } catch (error) {
      // Throttling or an outage must not reset a working user: the deploy fails and is retried.
      if (!isRejection(error)) throw error;
      log('the stored credentials do not sign in; enrolling again', { reason: errorName(error) ?? 'sign-in' });
    }
  } else {
    log('the secret holds no credentials of this user yet; enrolling', { username: config.username });
  }

  const password = generatePassword();
  const account = await createOrReset(deps, password);
  const totpSecret = await registerAuthenticator(deps, password);
  await deps.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: config.secretArn,
      SecretString: credentialsJson({ username: config.username, password, totpSecret }),
    }),
  );
  log('canary user enrolled and its credentials stored', { username: config.username, account });
  return { user: 'enrolled', account, product };
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
 * Signs in with the new password and answers MFA_SETUP with a new authenticator; returns
 * its base32 secret. A user that already has an authenticator (whose secret is lost) is
 * asked for its code instead: its software-token MFA is switched off, so that the pool,
 * which requires MFA, asks for MFA_SETUP again.
 */
async function registerAuthenticator(deps: CanaryIdentityDependencies, password: string): Promise<string> {
  const { userPoolId, clientId, username } = deps.config;
  const now = deps.now ?? Date.now;
  const initiate = () =>
    deps.clients.cognito.send(
      new AdminInitiateAuthCommand({
        UserPoolId: userPoolId,
        ClientId: clientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
  let answer: AdminInitiateAuthCommandOutput = await initiate();
  if (answer.ChallengeName === 'SOFTWARE_TOKEN_MFA' || answer.ChallengeName === 'SELECT_MFA_TYPE') {
    deps.log?.('the user has an authenticator nobody holds; replacing it', { username });
    await deps.clients.cognito.send(
      new AdminSetUserMFAPreferenceCommand({
        UserPoolId: userPoolId,
        Username: username,
        SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
      }),
    );
    answer = await initiate();
  }
  if (answer.ChallengeName !== 'MFA_SETUP' || !answer.Session) {
    throw new Error(
      `canary enrolment: Cognito answered the sign-in of ${username} with ${answer.ChallengeName ?? 'tokens'}, not MFA_SETUP; ` +
        'delete the user (aws cognito-idp admin-delete-user) and deploy again (docs/operations.md#canary-user)',
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
