import { enrol } from '../../../lambda/canary-identity/enrolment';
import { signIn } from '../../../lambda/canary-identity/identity';
import { meetsPoolPolicy } from '../../../lambda/canary-identity/password';
import { ROTATION_STEPS, type RotationStep, rotate } from '../../../lambda/canary-identity/rotation';
import { CONFIG, fakeWorld } from './fakes';

// Secrets Manager's four-step rotation against in-memory fakes (fakes.ts; there is no
// local Cognito engine). The fake secret labels versions as the service does: RotateSecret
// first labels the new version id AWSPENDING, with no value, then calls the steps in order.

const TOKEN = 'c0ffee00-1111-2222-3333-444455556666';

async function enrolled() {
  const world = fakeWorld();
  await enrol(world.deps);
  world.clock.now += 60_000;
  return world;
}

async function step(world: Awaited<ReturnType<typeof enrolled>>, name: RotationStep, token = TOKEN) {
  await rotate(world.deps, { step: name, secretId: CONFIG.secretArn, token });
  world.clock.now += 31_000;
}

describe('rotation (Secrets Manager)', () => {
  test('the four steps give the user a new password and keep its username and authenticator', async () => {
    // given an enrolled user and a rotation started
    const world = await enrolled();
    const before = world.secrets.current() as Record<string, string>;
    const [previousVersion] = [...world.secrets.versions.keys()];
    world.secrets.startRotation(TOKEN);
    // when
    for (const name of ROTATION_STEPS) await step(world, name);
    // then
    const after = world.secrets.current() as Record<string, string>;
    expect(after.username).toBe(before.username);
    expect(after.totpSecret).toBe(before.totpSecret);
    expect(after.password).not.toBe(before.password);
    expect(meetsPoolPolicy(after.password as string)).toBe(true);
    // AWSPENDING may stay on the version that is AWSCURRENT: one of the two end states the protocol allows.
    expect(world.secrets.stagesOf(TOKEN)?.sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(world.secrets.stagesOf(previousVersion as string)).toEqual(['AWSPREVIOUS']);
    expect(world.pool.called('AdminSetUserPassword').at(-1)).toMatchObject({
      Username: CONFIG.username,
      Permanent: true,
    });
    await signIn(world.deps, after as never);
    expect(JSON.stringify(world.logged)).not.toContain(after.password);
  });

  test('createSecret stores the new password as AWSPENDING under the request token, once', async () => {
    // given
    const world = await enrolled();
    world.secrets.startRotation(TOKEN);
    // when retried, as the service may
    await step(world, 'createSecret');
    await step(world, 'createSecret');
    // then
    const puts = world.secrets.called('PutSecretValue').slice(1);
    expect(puts).toEqual([
      {
        SecretId: CONFIG.secretArn,
        ClientRequestToken: TOKEN,
        SecretString: expect.any(String),
        VersionStages: ['AWSPENDING'],
      },
    ]);
    // The user still signs in with AWSCURRENT until setSecret.
    await signIn(world.deps, world.secrets.current() as never);
  });

  test('testSecret fails when the pending password was not set on the user, and AWSCURRENT stays', async () => {
    // given createSecret ran, setSecret did not
    const world = await enrolled();
    const before = world.secrets.current();
    world.secrets.startRotation(TOKEN);
    await step(world, 'createSecret');
    // when, then
    await expect(step(world, 'testSecret')).rejects.toThrow('Incorrect username or password');
    expect(world.secrets.current()).toEqual(before);
  });

  test('finishSecret again after it moved AWSCURRENT does nothing', async () => {
    // given a finished rotation
    const world = await enrolled();
    world.secrets.startRotation(TOKEN);
    for (const name of ROTATION_STEPS) await step(world, name);
    const updates = world.secrets.called('UpdateSecretVersionStage').length;
    // when
    await step(world, 'finishSecret');
    // then
    expect(world.secrets.called('UpdateSecretVersionStage')).toHaveLength(updates);
    expect(world.logged.at(-1)?.message).toBe('secret version is already AWSCURRENT');
  });

  test("createSecret refuses a secret with no enrolled user: enrolling is the deploy trigger's job", async () => {
    // given a secret with only CloudFormation's random string
    const world = fakeWorld();
    world.secrets.addVersion('random', ['AWSCURRENT']);
    world.secrets.startRotation(TOKEN);
    // when, then
    await expect(step(world, 'createSecret')).rejects.toThrow('the canary user is not enrolled yet');
    expect(world.pool.calls).toEqual([]);
  });

  test.each([
    [
      'a secret without rotation',
      (w: ReturnType<typeof fakeWorld>) => {
        w.secrets.rotationEnabled = false;
      },
      TOKEN,
      CONFIG.secretArn,
      'is not enabled for rotation',
    ],
    ['an unknown version', () => {}, 'other-token', CONFIG.secretArn, 'has no stage for rotation'],
    [
      'a version that is not pending',
      (w: ReturnType<typeof fakeWorld>) => {
        w.secrets.addVersion('{}', ['AWSPREVIOUS'], 'old-token');
      },
      'old-token',
      CONFIG.secretArn,
      'is not AWSPENDING',
    ],
    [
      'another secret',
      () => {},
      TOKEN,
      'arn:aws:secretsmanager:eu-central-1:123456789012:secret:other-XyZaBc',
      'rotates',
    ],
  ])('refuses %s', async (_what, arrange, token, secretId, message) => {
    // given
    const world = await enrolled();
    world.secrets.startRotation(TOKEN);
    arrange(world);
    // when, then
    await expect(rotate(world.deps, { step: 'createSecret', secretId, token })).rejects.toThrow(message);
    expect(world.secrets.called('PutSecretValue')).toHaveLength(1);
  });
});
