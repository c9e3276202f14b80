import { AdminSetUserMFAPreferenceCommand } from '@aws-sdk/client-cognito-identity-provider';
import { totp } from '../../../lambda/canary/totp';
import { enrol } from '../../../lambda/canary-identity/enrolment';
import { signIn } from '../../../lambda/canary-identity/identity';
import { meetsPoolPolicy } from '../../../lambda/canary-identity/password';
import { ROTATION_STEPS, type RotationStep, rotate } from '../../../lambda/canary-identity/rotation';
import { awsError, CONFIG, fakeWorld, T0 } from './fakes';

// The enrolment against in-memory fakes of Cognito, Secrets Manager and DynamoDB (see
// fakes.ts: there is no local Cognito engine to run it against).

const USER = CONFIG.username;

/** What the canaries will read, and a sign-in with it a TOTP step later (a new code). */
async function canarySignsIn(world: ReturnType<typeof fakeWorld>) {
  world.clock.now += 30_000;
  const stored = world.secrets.current() as { username: string; password: string; totpSecret: string };
  await signIn(world.deps, stored);
  return stored;
}

function everythingLogged(world: ReturnType<typeof fakeWorld>): string {
  return JSON.stringify(world.logged);
}

describe('enrolment (the deploy trigger)', () => {
  test('a new secret: the user is created, given a policy password and a TOTP authenticator, and the secret filled', async () => {
    // given the secret as CloudFormation created it (a random string) and no user
    const world = fakeWorld();
    world.secrets.addVersion('Qx3!generated-by-cloudformation', ['AWSCURRENT']);
    // when
    const result = await enrol(world.deps);
    // then
    expect(result).toEqual({ user: 'enrolled', account: 'created', product: 'created' });
    expect(world.pool.called('AdminCreateUser')).toEqual([
      {
        UserPoolId: CONFIG.userPoolId,
        Username: USER,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: USER },
          { Name: 'email_verified', Value: 'true' },
        ],
      },
    ]);
    // No sign-in check first: the secret held no credentials.
    expect(world.pool.commands()).toEqual([
      'AdminCreateUser',
      'AdminSetUserPassword',
      'AdminInitiateAuth',
      'AssociateSoftwareToken',
      'VerifySoftwareToken',
      'AdminRespondToAuthChallenge',
      'AdminSetUserMFAPreference',
    ]);
    expect(world.pool.called('AdminSetUserPassword')[0]).toMatchObject({ Username: USER, Permanent: true });
    expect(world.pool.called('AdminRespondToAuthChallenge')[0]).toMatchObject({
      ChallengeName: 'MFA_SETUP',
      ChallengeResponses: { USERNAME: 'sub-1' },
    });
    expect(world.pool.called('AdminSetUserMFAPreference')).toEqual([
      {
        UserPoolId: CONFIG.userPoolId,
        Username: USER,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      },
    ]);
    const stored = await canarySignsIn(world);
    expect(Object.keys(stored).sort()).toEqual(['password', 'totpSecret', 'username']);
    expect(stored.username).toBe(USER);
    expect(stored.totpSecret).toBe(world.pool.nextTotpSecret);
    expect(meetsPoolPolicy(stored.password)).toBe(true);
    expect(stored.password).toHaveLength(32);
    // Written once, as the current version (AWSPENDING with it: see the rotation tests below), and never logged.
    expect(world.secrets.called('PutSecretValue')).toHaveLength(1);
    expect(world.secrets.called('PutSecretValue')[0]?.VersionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(everythingLogged(world)).not.toContain(stored.password);
    expect(everythingLogged(world)).not.toContain(stored.totpSecret);
  });

  test('run again on the next deploy: the stored credentials sign in, so nothing changes', async () => {
    // given an enrolled user
    const world = fakeWorld();
    await enrol(world.deps);
    const before = world.secrets.current();
    world.clock.now += 60_000;
    world.pool.calls.length = 0;
    // when
    const result = await enrol(world.deps);
    // then
    expect(result).toEqual({ user: 'unchanged', product: 'exists' });
    expect(world.pool.commands()).toEqual(['AdminInitiateAuth', 'AdminRespondToAuthChallenge']);
    expect(world.secrets.called('PutSecretValue')).toHaveLength(1);
    expect(world.secrets.current()).toEqual(before);
  });

  test('the code of this step was just used by a canary: the check waits for the next step instead of re-enrolling', async () => {
    // given an enrolled user whose current code a canary has just used
    const world = fakeWorld();
    await enrol(world.deps);
    world.clock.now += 30_000;
    const { password, totpSecret } = world.secrets.current() as Record<string, string>;
    await signIn(world.deps, { username: USER, password: password as string, totpSecret: totpSecret as string });
    // when
    const result = await enrol(world.deps);
    // then
    expect(result.user).toBe('unchanged');
    expect(world.slept).toHaveLength(1);
    expect(world.slept[0]).toBeGreaterThan(1_000);
    expect(world.slept[0]).toBeLessThanOrEqual(31_000);
  });

  test('a user left by an earlier partial run (password set, no authenticator) is reset and enrolled', async () => {
    // given the user exists, the secret still holds nothing usable
    const world = fakeWorld();
    world.pool.addUser(USER, { password: 'Old-Pa55word!!', permanent: true });
    // when
    const result = await enrol(world.deps);
    // then
    expect(result).toMatchObject({ user: 'enrolled', account: 'existing' });
    expect(world.pool.called('AdminSetUserPassword')).toHaveLength(1);
    await canarySignsIn(world);
  });

  test.each([
    ['enrolled by hand under the same name, before the deploy did it', 'random-string-of-a-new-secret'],
    [
      'the secret re-created',
      JSON.stringify({ username: USER, password: 'Old-Pa55word!!', totpSecret: '' }), // an incomplete value
    ],
  ])(
    'a user with an authenticator nobody holds (%s) is deleted and created again: the pool requires MFA, so its TOTP cannot be switched off',
    async (_case, secretValue) => {
      // given
      const world = fakeWorld();
      const old = world.pool.addUser(USER, {
        password: 'Old-Pa55word!!',
        permanent: true,
        totpSecret: 'GEZDGNBVGY3TQOJQ',
        totpEnabled: true,
      });
      world.secrets.addVersion(secretValue, ['AWSCURRENT']);
      // when
      const result = await enrol(world.deps);
      // then
      expect(result).toMatchObject({ user: 'enrolled', account: 'recreated' });
      expect(world.pool.commands()).toEqual([
        'AdminCreateUser', // UsernameExistsException
        'AdminSetUserPassword',
        'AdminInitiateAuth', // SOFTWARE_TOKEN_MFA
        'AdminDeleteUser',
        'AdminCreateUser',
        'AdminSetUserPassword',
        'AdminInitiateAuth', // MFA_SETUP
        'AssociateSoftwareToken',
        'VerifySoftwareToken',
        'AdminRespondToAuthChallenge',
        'AdminSetUserMFAPreference',
      ]);
      expect(world.pool.called('AdminDeleteUser')).toEqual([{ UserPoolId: CONFIG.userPoolId, Username: USER }]);
      // Never the switch-off Cognito refuses in a pool that requires MFA.
      expect(world.pool.called('AdminSetUserMFAPreference').map((i) => i.SoftwareTokenMfaSettings)).toEqual([
        { Enabled: true, PreferredMfa: true },
      ]);
      expect(world.pool.users.get(USER)?.sub).not.toBe(old.sub);
      const stored = await canarySignsIn(world);
      expect(stored.totpSecret).not.toBe('GEZDGNBVGY3TQOJQ');
    },
  );

  test('the fake pool refuses to switch TOTP off while MFA is required, as Cognito does', async () => {
    // given
    const world = fakeWorld();
    world.pool.addUser(USER, { permanent: true, totpSecret: 'GEZDGNBVGY3TQOJQ', totpEnabled: true });
    // when, then
    await expect(
      world.pool.send(
        new AdminSetUserMFAPreferenceCommand({
          UserPoolId: CONFIG.userPoolId,
          Username: USER,
          SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  test('stored credentials Cognito refuses (password changed by hand) are replaced', async () => {
    // given
    const world = fakeWorld();
    await enrol(world.deps);
    (world.pool.users.get(USER) as { password: string }).password = 'Changed-By-Hand-1!';
    world.clock.now += 60_000;
    // when
    const result = await enrol(world.deps);
    // then the user, whose authenticator went with the lost password, is created again
    expect(result).toMatchObject({ user: 'enrolled', account: 'recreated' });
    expect(world.logged.map((l) => l.fields?.reason)).toContain('NotAuthorizedException');
    await canarySignsIn(world);
  });

  test('a secret of another username (the shop domain changed) enrols the new user', async () => {
    // given
    const world = fakeWorld();
    world.secrets.addVersion(
      JSON.stringify({ username: 'canary-eu-central-1@old.example.com', password: 'x', totpSecret: 'GEZDGNBV' }),
      ['AWSCURRENT'],
    );
    // when
    await enrol(world.deps);
    // then
    expect(world.pool.commands()[0]).toBe('AdminCreateUser');
    expect(world.secrets.current()?.username).toBe(USER);
  });

  test('Cognito throttling during the check fails the deploy and resets nothing', async () => {
    // given
    const world = fakeWorld();
    await enrol(world.deps);
    const before = world.secrets.current();
    world.clock.now += 60_000;
    world.pool.calls.length = 0;
    world.pool.failures.set('AdminInitiateAuth', awsError('TooManyRequestsException', 'Rate exceeded'));
    // when, then
    await expect(enrol(world.deps)).rejects.toThrow('Rate exceeded');
    expect(world.pool.commands()).toEqual(['AdminInitiateAuth']);
    expect(world.secrets.current()).toEqual(before);
  });

  test('a failure part way leaves the secret as it was; the next run finishes the enrolment', async () => {
    // given VerifySoftwareToken fails once
    const world = fakeWorld();
    world.secrets.addVersion('random', ['AWSCURRENT']);
    world.pool.failures.set('VerifySoftwareToken', awsError('InternalErrorException', 'internal error'));
    // when
    await expect(enrol(world.deps)).rejects.toThrow('internal error');
    // then nothing was stored; the redeploy (retry) completes with the user left behind
    expect(world.secrets.called('PutSecretValue')).toEqual([]);
    world.clock.now += 60_000;
    await expect(enrol(world.deps)).resolves.toMatchObject({ user: 'enrolled', account: 'existing' });
    await canarySignsIn(world);
  });

  test('AdminCreateUser errors other than an existing user stop the enrolment', async () => {
    // given
    const world = fakeWorld();
    world.pool.failures.set('AdminCreateUser', awsError('InvalidParameterException', 'bad attribute'));
    // when, then
    await expect(enrol(world.deps)).rejects.toThrow('bad attribute');
    expect(world.pool.commands()).toEqual(['AdminCreateUser']);
  });

  test('a pool that does not ask a new user for MFA_SETUP (MFA not required) is reported, nothing stored', async () => {
    // given
    const world = fakeWorld();
    world.pool.mfaConfiguration = 'OFF';
    // when, then
    await expect(enrol(world.deps)).rejects.toThrow(/with tokens, not MFA_SETUP; the pool must require TOTP MFA/);
    expect(world.secrets.called('PutSecretValue')).toEqual([]);
  });

  test('the canary product is created once with stock-free details, and an existing one is never overwritten', async () => {
    // given
    const world = fakeWorld();
    // when
    await enrol(world.deps);
    await enrol(world.deps);
    // then
    const puts = world.table.called('PutItem');
    expect(puts).toHaveLength(2);
    expect(puts[0]).toEqual({
      TableName: CONFIG.product.tableName,
      Item: {
        pk: { S: 'PRODUCT#CANARY-1' },
        sk: { S: 'DETAILS' },
        name: { S: 'Canary probe (not for sale)' },
        priceCents: { N: '0' },
        currency: { S: 'EUR' },
        updatedAt: { N: String(T0) },
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect([...world.table.items.keys()]).toEqual(['PRODUCT#CANARY-1|DETAILS']);
  });

  test('a table error fails the enrolment (the product is needed by every canary run)', async () => {
    // given
    const world = fakeWorld();
    world.table.failures.set('PutItem', awsError('AccessDeniedException', 'not authorized'));
    // when, then
    await expect(enrol(world.deps)).rejects.toThrow('not authorized');
  });

  test('the TOTP code sent at verification is the one of the associated secret', async () => {
    // given
    const world = fakeWorld();
    // when
    await enrol(world.deps);
    // then
    expect(world.pool.called('VerifySoftwareToken')[0]).toMatchObject({
      UserCode: totp(world.pool.nextTotpSecret, { atMs: world.clock.now }),
      FriendlyDeviceName: 'canary',
    });
  });
});

describe('enrolment while a rotation is under way (a deploy between its steps)', () => {
  const TOKEN = 'c0ffee00-1111-2222-3333-444455556666';

  async function rotationAt(last: RotationStep) {
    const world = fakeWorld();
    await enrol(world.deps);
    world.clock.now += 60_000;
    world.secrets.startRotation(TOKEN);
    for (const step of ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(last) + 1)) {
      await rotate(world.deps, { step, secretId: CONFIG.secretArn, token: TOKEN });
      world.clock.now += 31_000;
    }
    world.pool.calls.length = 0;
    world.secrets.calls.length = 0;
    return world;
  }

  const finishRotation = async (world: ReturnType<typeof fakeWorld>, from: RotationStep) => {
    for (const step of ROTATION_STEPS.slice(ROTATION_STEPS.indexOf(from))) {
      await rotate(world.deps, { step, secretId: CONFIG.secretArn, token: TOKEN });
      world.clock.now += 31_000;
    }
  };

  test('after setSecret: AWSCURRENT no longer signs in, the pending version does and is made current; the rotation then finishes', async () => {
    // given the pending password is on the user, AWSCURRENT still on the old version
    const world = await rotationAt('setSecret');
    const pendingValue = world.secrets.versions.get(TOKEN)?.string;
    // when
    const result = await enrol(world.deps);
    // then nothing is reset: the pending version becomes current, as finishSecret would make it
    expect(result).toEqual({ user: 'promoted', product: 'exists' });
    expect(world.pool.called('AdminSetUserPassword')).toEqual([]);
    expect(world.pool.called('AdminDeleteUser')).toEqual([]);
    expect(world.secrets.called('PutSecretValue')).toEqual([]);
    expect(world.secrets.stagesOf(TOKEN)?.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(JSON.stringify(world.secrets.current())).toBe(pendingValue);
    await canarySignsIn(world);
    // and the rotation's remaining steps find the version current and do nothing
    await finishRotation(world, 'testSecret');
    expect(world.secrets.called('UpdateSecretVersionStage')).toHaveLength(1);
    expect(JSON.stringify(world.secrets.current())).toBe(pendingValue);
    expect(everythingLogged(world)).not.toContain(JSON.parse(pendingValue as string).password);
  });

  test('after createSecret: AWSCURRENT still signs in, nothing changes, and the rotation finishes', async () => {
    // given
    const world = await rotationAt('createSecret');
    // when
    const result = await enrol(world.deps);
    // then
    expect(result.user).toBe('unchanged');
    await finishRotation(world, 'setSecret');
    expect(world.secrets.stagesOf(TOKEN)).toContain('AWSCURRENT');
    await canarySignsIn(world);
  });

  test('neither version signs in: the re-enrolment takes AWSPENDING too, so the rotation cannot promote its stale version', async () => {
    // given the rotation set its password, then someone changed it by hand
    const world = await rotationAt('setSecret');
    (world.pool.users.get(USER) as { password: string }).password = 'Changed-By-Hand-1!';
    // when
    const result = await enrol(world.deps);
    // then the new credentials are current and pending; the rotation's version has no label left
    expect(result).toMatchObject({ user: 'enrolled' });
    const enrolled = world.secrets.current();
    expect(world.secrets.stagesOf(TOKEN)).toEqual([]);
    const newVersion = [...world.secrets.versions.values()].find((v) => v.stages.includes('AWSCURRENT'));
    expect(newVersion?.stages.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    // and the rotation's finishSecret (retried by Secrets Manager) refuses instead of promoting the stale version
    await expect(
      rotate(world.deps, { step: 'finishSecret', secretId: CONFIG.secretArn, token: TOKEN }),
    ).rejects.toThrow('has no stage for rotation');
    expect(world.secrets.current()).toEqual(enrolled);
    await canarySignsIn(world);
    // and the next rotation runs from the enrolled credentials
    const next = 'feedface-1111-2222-3333-444455556666';
    world.secrets.startRotation(next);
    for (const step of ROTATION_STEPS) {
      await rotate(world.deps, { step, secretId: CONFIG.secretArn, token: next });
      world.clock.now += 31_000;
    }
    expect(world.secrets.current()?.totpSecret).toBe(enrolled?.totpSecret);
    expect(world.secrets.current()?.password).not.toBe(enrolled?.password);
    await canarySignsIn(world);
  });

  test('an outage while trying the pending version fails the deploy and resets nothing', async () => {
    // given AWSCURRENT is refused (the rotation set its password), then Cognito throttles
    const world = await rotationAt('setSecret');
    const before = world.secrets.current();
    const initiate = world.pool.AdminInitiateAuth.bind(world.pool);
    let calls = 0;
    world.pool.AdminInitiateAuth = (input) => {
      calls += 1;
      if (calls === 2) throw awsError('TooManyRequestsException', 'Rate exceeded');
      return initiate(input);
    };
    // when, then
    await expect(enrol(world.deps)).rejects.toThrow('Rate exceeded');
    expect(world.pool.called('AdminSetUserPassword')).toEqual([]);
    expect(world.secrets.current()).toEqual(before);
  });
});
