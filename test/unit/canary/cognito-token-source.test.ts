import {
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  CognitoTokenSource,
  NOT_ENROLLED,
  parseCredentials,
  regionOfArn,
} from '../../../lambda/canary/cognito-token-source';
import { totp } from '../../../lambda/canary/totp';

// The token source takes its two SDK clients injected: fakes here answer each command as
// Cognito and Secrets Manager would, and record what was sent.
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:canary-AbCdEf';
const TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const CREDENTIALS = { username: 'canary@shop.example.com', password: 'Pa55word!long-enough', totpSecret: TOTP_SECRET };

type Sent = { command: string; input: Record<string, any> };

function fakes(cognitoAnswers: unknown[], secret: unknown = JSON.stringify(CREDENTIALS)) {
  const sent: Sent[] = [];
  const record = (command: { input: Record<string, any> }) => {
    const name =
      command instanceof GetSecretValueCommand
        ? 'GetSecretValueCommand'
        : command instanceof AdminInitiateAuthCommand
          ? 'AdminInitiateAuthCommand'
          : command instanceof AdminRespondToAuthChallengeCommand
            ? 'AdminRespondToAuthChallengeCommand'
            : 'unexpected command';
    sent.push({ command: name, input: command.input });
  };
  const answers = [...cognitoAnswers];
  const clients = {
    cognito: {
      send: async (command: any) => {
        record(command);
        const next = answers.shift();
        if (next instanceof Error) throw next;
        if (!next) throw new Error('no more fake answers');
        return next;
      },
    },
    secrets: {
      send: async (command: any) => {
        record(command);
        if (secret instanceof Error) throw secret;
        return { SecretString: secret };
      },
    },
  };
  return { sent, clients: clients as any };
}

const mfaChallenge = {
  ChallengeName: 'SOFTWARE_TOKEN_MFA',
  Session: 's1',
  ChallengeParameters: { USER_ID_FOR_SRP: 'u-1' },
};
const signedIn = (token: string) => ({ AuthenticationResult: { IdToken: token, ExpiresIn: 3600 } });
const NOW = Date.UTC(2026, 0, 1, 12, 0, 10);

function source(clients: unknown, clock = () => NOW) {
  return new CognitoTokenSource({
    secretArn: SECRET_ARN,
    userPoolId: 'eu-west-1_Pool',
    clientId: 'web-client',
    userPoolRegion: 'eu-west-1',
    clients: clients as any,
    now: clock,
  });
}

describe('CognitoTokenSource', () => {
  test('signs the canary user in with its password, then the TOTP code of the moment', async () => {
    const { sent, clients } = fakes([mfaChallenge, signedIn('id-1')]);
    expect(await source(clients).token()).toBe('id-1');
    expect(sent).toEqual([
      { command: 'GetSecretValueCommand', input: { SecretId: SECRET_ARN } },
      {
        command: 'AdminInitiateAuthCommand',
        input: {
          UserPoolId: 'eu-west-1_Pool',
          ClientId: 'web-client',
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: CREDENTIALS.username, PASSWORD: CREDENTIALS.password },
        },
      },
      {
        command: 'AdminRespondToAuthChallengeCommand',
        input: {
          UserPoolId: 'eu-west-1_Pool',
          ClientId: 'web-client',
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: 's1',
          ChallengeResponses: { USERNAME: 'u-1', SOFTWARE_TOKEN_MFA_CODE: totp(TOTP_SECRET, { atMs: NOW }) },
        },
      },
    ]);
  });

  test('reuses the token until five minutes before it expires, and after forget() signs in again', async () => {
    let now = NOW;
    const { sent, clients } = fakes([
      ...[mfaChallenge, signedIn('id-1')],
      ...[mfaChallenge, signedIn('id-2')],
      ...[mfaChallenge, signedIn('id-3')],
    ]);
    const tokens = source(clients, () => now);
    expect(await tokens.token()).toBe('id-1');
    now += 54 * 60_000;
    expect(await tokens.token()).toBe('id-1');
    now += 2 * 60_000;
    expect(await tokens.token()).toBe('id-2');
    expect(sent.filter((s) => s.command === 'AdminInitiateAuthCommand')).toHaveLength(2);
    tokens.forget();
    expect(await tokens.token()).toBe('id-3');
  });

  test('answers a choice of MFA type with the software token', async () => {
    const choice = { ChallengeName: 'SELECT_MFA_TYPE', Session: 's0', ChallengeParameters: {} };
    const { sent, clients } = fakes([choice, mfaChallenge, signedIn('id-1')]);
    expect(await source(clients).token()).toBe('id-1');
    expect(sent.slice(2).map((s) => [s.input.ChallengeName, s.input.ChallengeResponses])).toEqual([
      ['SELECT_MFA_TYPE', { USERNAME: CREDENTIALS.username, ANSWER: 'SOFTWARE_TOKEN_MFA' }],
      ['SOFTWARE_TOKEN_MFA', { USERNAME: 'u-1', SOFTWARE_TOKEN_MFA_CODE: totp(TOTP_SECRET, { atMs: NOW }) }],
    ]);
  });

  test.each([
    [
      'no value yet',
      Object.assign(new Error("can't find the specified secret value"), { name: 'ResourceNotFoundException' }),
    ],
    ['an empty string', ''],
    ['not JSON', 'hunter2'],
    ['empty JSON', '{}'],
    ['the generated password only', JSON.stringify({ username: '', totpSecret: '', password: 'Generated!123' })],
  ])('a secret with %s: the canary user is not enrolled (the secret is never quoted)', async (_case, secret) => {
    const { sent, clients } = fakes([], secret);
    const error = (await source(clients)
      .token()
      .catch((e: unknown) => e)) as Error;
    expect(error.message.startsWith(NOT_ENROLLED)).toBe(true);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('Generated!123');
    expect(sent.map((s) => s.command)).toEqual(['GetSecretValueCommand']);
  });

  test('a user without an authenticator (MFA_SETUP) is not enrolled; other challenges are named', async () => {
    const setup = fakes([{ ChallengeName: 'MFA_SETUP', Session: 's' }]);
    await expect(source(setup.clients).token()).rejects.toThrow(`${NOT_ENROLLED} (the user has no authenticator`);
    const newPassword = fakes([{ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' }]);
    await expect(source(newPassword.clients).token()).rejects.toThrow(
      'canary sign-in stopped at Cognito challenge NEW_PASSWORD_REQUIRED',
    );
  });

  test('other Secrets Manager errors pass through unchanged', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    await expect(source(fakes([], denied).clients).token()).rejects.toBe(denied);
  });
});

describe('helpers', () => {
  test('the not-enrolled message points at the deploy that enrols the user and at the runbook', () => {
    expect(NOT_ENROLLED).toBe(
      "canary user not enrolled: each deploy enrols it (the stack's CanaryIdentity trigger); see docs/operations.md#canary-user",
    );
    expect(parseCredentials(JSON.stringify(CREDENTIALS))).toEqual(CREDENTIALS);
    expect(() => parseCredentials('{"username":"u","password":"p"}')).toThrow('the secret has no totpSecret');
  });

  test('by default the user pool is called in its region and the secret in its own, taken from its ARN', async () => {
    expect(regionOfArn(SECRET_ARN)).toBe('eu-central-1');
    expect(() => regionOfArn('canary')).toThrow('not an ARN with a region');
    const tokens = new CognitoTokenSource({
      secretArn: SECRET_ARN,
      userPoolId: 'eu-west-1_Pool',
      clientId: 'web-client',
      userPoolRegion: 'eu-west-1',
    });
    const clients = (tokens as unknown as { clients: Record<string, { config: { region: () => Promise<string> } }> })
      .clients;
    expect(await clients.cognito?.config.region()).toBe('eu-west-1');
    expect(await clients.secrets?.config.region()).toBe('eu-central-1');
  });
});
