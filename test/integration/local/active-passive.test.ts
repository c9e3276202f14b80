import type { LocalPlatform } from '../../../local/platform';
import { Client, eventually, startTestPlatform } from './platform-support';

// Active-passive: the edge follows failover routing, not latency: a jurisdiction's users
// go to its primary wherever they are, and to its standby only when the primary fails.
let platform: LocalPlatform;
let client: Client;

beforeAll(async () => {
  platform = await startTestPlatform({ deploymentModel: 'active-passive' });
  client = new Client(platform);
});

afterAll(async () => {
  await platform?.stop();
});

test('users go to their primary even when a standby is nearer, and to the standby when it fails', async () => {
  const token = await client.token('eu', 'passive-user');
  expect((await client.api('eu-central-1', 'GET', '/api/me/cart', { token })).routedTo).toBe('eu-west-1');
  const asia = await client.token('global', 'asia-user');
  expect((await client.api('ap-southeast-1', 'GET', '/api/me/cart', { token: asia })).routedTo).toBe('us-east-1');

  await client.control('POST', '/regions/eu-west-1/down');
  try {
    await eventually(async () =>
      expect((await client.api('eu-central-1', 'GET', '/api/me/cart', { token })).routedTo).toBe('eu-central-1'),
    );
  } finally {
    await client.control('POST', '/regions/eu-west-1/up');
  }
  await eventually(async () =>
    expect((await client.api('eu-central-1', 'GET', '/api/me/cart', { token })).routedTo).toBe('eu-west-1'),
  );
});

test('anonymous clients go to the nearest jurisdiction primary', async () => {
  expect((await client.api('eu-central-1', 'GET', '/api/health')).routedTo).toBe('eu-west-1');
  expect((await client.api('ap-southeast-1', 'GET', '/api/health')).routedTo).toBe('eu-west-1');
  expect((await client.api('us-east-1', 'GET', '/api/health')).routedTo).toBe('us-east-1');
});
