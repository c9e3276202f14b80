import type { CanaryIdentityConfig, CanaryIdentityDependencies } from '../../../lambda/canary-identity/identity';
import { FakeSecrets, FakeTable, FakeUserPool } from '../../../local/rehearsal/identity-stand-ins';

export { awsError, FakeSecrets, FakeTable, FakeUserPool } from '../../../local/rehearsal/identity-stand-ins';

export const CONFIG: CanaryIdentityConfig = {
  userPoolId: 'eu-west-1_AbCdEfGhI',
  userPoolRegion: 'eu-west-1',
  clientId: 'webclient123',
  username: 'canary-eu-central-1@shop.example.com',
  secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:CanaryIdentity-AbCdEf',
  product: { tableName: 'Commerce-eu-eventual', sku: 'CANARY-1', currency: 'EUR' },
};

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 5);

/** The three fakes, a clock the fakes share, and the log lines written. */
export function fakeWorld(start = T0) {
  const clock = { now: start };
  const pool = new FakeUserPool(clock);
  const secrets = new FakeSecrets();
  const table = new FakeTable();
  const logged: { message: string; fields?: Record<string, unknown> }[] = [];
  const slept: number[] = [];
  const deps: CanaryIdentityDependencies = {
    config: CONFIG,
    clients: { cognito: pool, secrets, dynamodb: table },
    now: () => clock.now,
    sleep: async (ms) => {
      slept.push(ms);
      clock.now += ms;
    },
    log: (message, fields) => logged.push({ message, ...(fields ? { fields } : {}) }),
  };
  return { clock, pool, secrets, table, deps, logged, slept };
}
