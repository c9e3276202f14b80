import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import { jwksUriOf } from '../../../lambda/authorizer/pool-verifier';
import { copySigningKeys } from '../../../lambda/signing-keys/copy-keys';
import { verifiedCopy } from '../../../lambda/signing-keys/signed-copy';
import { copyKey, signedCopyOf } from '../../support/copy-key';

// The copier against a real HTTP server standing in for Cognito's JWKS endpoint. SSM and KMS
// have no local engine: a fake parameter store records what is written, and a fake KMS signs
// with a real ECDSA key.
const POOL = 'eu-west-1_TestPool';
const JWKS = { keys: [{ kty: 'RSA', kid: 'key-1', alg: 'RS256', use: 'sig', n: 'AQAB', e: 'AQAB' }] };
let server: Server;
let answer: { status: number; body: string } = { status: 200, body: JSON.stringify(JWKS) };
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requested.push(request.url ?? '');
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answer = { status: 200, body: JSON.stringify(JWKS) };
  requested.length = 0;
});

/** fetch, with Cognito's host replaced by the local server. */
const localFetch: typeof fetch = (input, init) => {
  const { port } = server.address() as AddressInfo;
  const url = new URL(String(input));
  return fetch(`http://127.0.0.1:${port}${url.pathname}`, init);
};

function parameterStore(initial?: string) {
  const puts: { Name?: string; Value?: string; Type?: string; Overwrite?: boolean }[] = [];
  let value = initial;
  return {
    puts,
    send: async (command: unknown) => {
      if (command instanceof GetParameterCommand) {
        if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
        return { Parameter: { Value: value } };
      }
      if (command instanceof PutParameterCommand) {
        puts.push(command.input);
        value = command.input.Value;
        return {};
      }
      throw new Error('unexpected command');
    },
  };
}

const kms = copyKey();
const options = (ssm: ReturnType<typeof parameterStore>) => ({
  userPoolId: POOL,
  parameterName: '/Commerce/eu/keys',
  copyKeyId: kms.keyId,
  ssm,
  kms,
  fetch: localFetch,
});
const copy = (ssm: ReturnType<typeof parameterStore>) => copySigningKeys(options(ssm));

test("the pool's JWKS is fetched from its URI and written to the region's parameter", async () => {
  const ssm = parameterStore();
  await expect(copy(ssm)).resolves.toEqual({ outcome: 'written', kids: ['key-1'] });
  expect(requested).toEqual([new URL(jwksUriOf(POOL)).pathname]);
  expect(ssm.puts.map(({ Name, Type, Overwrite }) => ({ Name, Type, Overwrite }))).toEqual([
    { Name: '/Commerce/eu/keys', Type: 'String', Overwrite: true },
  ]);
  // ECDSA signatures differ each time: what matters is that the written copy verifies.
  await expect(verifiedCopy(kms, kms.keyId, ssm.puts[0]?.Value ?? '')).resolves.toEqual({ jwks: JSON.stringify(JWKS) });
});

test('an unchanged copy is not written again', async () => {
  const ssm = parameterStore(JSON.stringify(signedCopyOf(kms, JSON.stringify(JWKS))));
  await expect(copy(ssm)).resolves.toEqual({ outcome: 'unchanged', kids: ['key-1'] });
  expect(ssm.puts).toEqual([]);
});

test("a deploy while the pool's region is down keeps the region's copy and succeeds", async () => {
  answer = { status: 503, body: '{}' };
  const ssm = parameterStore(JSON.stringify(signedCopyOf(kms, JSON.stringify(JWKS))));
  const result = await copySigningKeys({ ...options(ssm), keepCopyOnFailure: true });
  expect(result).toEqual({ outcome: 'kept', kids: ['key-1'], reason: expect.stringContaining('answered 503') });
  expect(ssm.puts).toEqual([]);
});

test('with no copy yet, even a deploy fails when the pool cannot be reached', async () => {
  answer = { status: 503, body: '{}' };
  const ssm = parameterStore();
  await expect(copySigningKeys({ ...options(ssm), keepCopyOnFailure: true })).rejects.toThrow(
    "the pool's JWKS answered 503",
  );
});

test.each([
  [{ status: 503, body: '{}' }, "the pool's JWKS answered 503"],
  [{ status: 200, body: '<html>' }, 'is not JSON'],
  [{ status: 200, body: '{"keys":[]}' }, 'has no keys'],
])('a bad answer %j fails naming it and leaves the copy as it was', async (bad, message) => {
  answer = bad;
  const ssm = parameterStore(JSON.stringify(signedCopyOf(kms, JSON.stringify(JWKS))));
  await expect(copy(ssm)).rejects.toThrow(message);
  expect(ssm.puts).toEqual([]);
});

test('a copy someone else wrote (unsigned) is replaced by a signed one, not taken as current', async () => {
  const ssm = parameterStore(JSON.stringify(JWKS));
  await expect(copy(ssm)).resolves.toEqual({ outcome: 'written', kids: ['key-1'] });
  expect(ssm.puts).toHaveLength(1);
});
