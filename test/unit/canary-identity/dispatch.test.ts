import { configFromEnvironment, handleEvent } from '../../../lambda/canary-identity/dispatch';
import type { CanaryIdentityEnvironment } from '../../../lambda/shared/environment';
import { CONFIG, fakeWorld } from './fakes';

const ENVIRONMENT: CanaryIdentityEnvironment = {
  USER_POOL_ID: CONFIG.userPoolId,
  USER_POOL_REGION: CONFIG.userPoolRegion,
  USER_POOL_CLIENT_ID: CONFIG.clientId,
  CANARY_USERNAME: CONFIG.username,
  CANARY_SECRET_ARN: CONFIG.secretArn,
  EVENTUAL_TABLE: CONFIG.product.tableName,
  CANARY_SKU: CONFIG.product.sku,
  CANARY_CURRENCY: CONFIG.product.currency,
};

describe('the canary identity function: which caller, which job', () => {
  test.each([
    ['no payload', undefined],
    ['null', null],
    ['an empty object (what the CDK trigger sends)', {}],
  ])('%s: enrolment', async (_what, event) => {
    // given
    const world = fakeWorld();
    // when
    const result = await handleEvent(world.deps, event);
    // then
    expect(result).toEqual({ kind: 'enrolment', user: 'enrolled', account: 'created', product: 'created' });
  });

  test.each(['createSecret', 'create_secret'])('a rotation event (Step %s): that rotation step', async (stepName) => {
    // given an enrolled user and a rotation started
    const world = fakeWorld();
    await handleEvent(world.deps, {});
    world.secrets.startRotation('token-1');
    // when
    const result = await handleEvent(world.deps, {
      Step: stepName,
      SecretId: CONFIG.secretArn,
      ClientRequestToken: 'token-1',
      RotationToken: 'rotation-token',
    });
    // then
    expect(result).toEqual({ kind: 'rotation', step: 'createSecret' });
    expect(world.secrets.stagesOf('token-1')).toEqual(['AWSPENDING']);
  });

  test.each([
    [
      'an unknown step',
      { Step: 'dropSecret', SecretId: CONFIG.secretArn, ClientRequestToken: 't' },
      'Step, SecretId, ClientRequestToken',
    ],
    ['a rotation event without its token', { Step: 'setSecret', SecretId: CONFIG.secretArn }, 'Step, SecretId'],
    ['a string', 'enrol', 'string'],
  ])('refuses %s, naming the fields but not their values', async (_what, event, fields) => {
    // given
    const world = fakeWorld();
    // when, then
    await expect(handleEvent(world.deps, event)).rejects.toThrow(
      `canary identity: not a trigger or rotation event (fields: ${fields})`,
    );
    expect(world.pool.calls).toEqual([]);
  });

  test('its configuration comes from the environment contract; a missing variable is named', () => {
    expect(configFromEnvironment(ENVIRONMENT)).toEqual(CONFIG);
    const { CANARY_CURRENCY: _, ...missing } = ENVIRONMENT;
    expect(() => configFromEnvironment(missing)).toThrow('CANARY_CURRENCY is not set');
  });
});
