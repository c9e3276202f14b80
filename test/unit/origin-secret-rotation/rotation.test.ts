import {
  type OriginHeaders,
  RotationRefused,
  type RotationStep,
  rotate,
  type SecretVersions,
} from '../../../lambda/origin-secret-rotation/rotation';

// The four steps of a rotation of the origin secret, against an in-memory secret with
// Secrets Manager's version labels and a distribution whose API origins carry the header.

const SECRET = 'Commerce/origin-verify';

function memorySecret(initial: string) {
  const values = new Map<string, string>([['v1', initial]]);
  const labels: Record<string, string[]> = { v1: ['AWSCURRENT'] };
  let generated = 0;
  const versions: SecretVersions = {
    async value(_id, stage, versionId) {
      const id = versionId ?? Object.keys(labels).find((v) => labels[v]?.includes(stage));
      return id && labels[id]?.includes(stage) ? values.get(id) : undefined;
    },
    async describe() {
      return { rotationEnabled: true, versions: structuredClone(labels) };
    },
    async newValue() {
      return `generated-${++generated}`;
    },
    async putPending(_id, versionId, value) {
      values.set(versionId, value);
    },
    async makeCurrent(_id, versionId, previous) {
      for (const stages of Object.values(labels)) {
        const at = stages.indexOf('AWSPREVIOUS');
        if (at >= 0) stages.splice(at, 1);
      }
      if (previous) labels[previous] = ['AWSPREVIOUS'];
      labels[versionId] = ['AWSCURRENT'];
    },
  };
  /** What Secrets Manager does before calling the function: the new version, labelled pending. */
  const start = (versionId: string) => {
    labels[versionId] = ['AWSPENDING'];
  };
  return { versions, labels, values, start, generatedCount: () => generated };
}

function distribution(value: string) {
  const origins = [{ header: value }, { header: value }];
  const headers: OriginHeaders = {
    async values() {
      return origins.map((o) => o.header);
    },
    async set(next) {
      for (const origin of origins) origin.header = next;
    },
  };
  return { origins, headers };
}

const step = (Step: RotationStep, token = 'v2') => ({ Step, SecretId: SECRET, ClientRequestToken: token });

test('a rotation makes a new value pending, gives it to every origin, checks them, then makes it current', async () => {
  // given
  const secret = memorySecret('first');
  const cloudfront = distribution('first');
  secret.start('v2');
  // when
  await rotate(step('createSecret'), secret.versions, cloudfront.headers);
  // then
  const pending = secret.values.get('v2');
  expect(pending).toBe('generated-1');
  expect(cloudfront.origins.map((o) => o.header)).toEqual(['first', 'first']);
  await rotate(step('setSecret'), secret.versions, cloudfront.headers);
  expect(cloudfront.origins.map((o) => o.header)).toEqual([pending, pending]);
  await rotate(step('testSecret'), secret.versions, cloudfront.headers);
  await rotate(step('finishSecret'), secret.versions, cloudfront.headers);
  expect(secret.labels).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
});

test('a retried step does not make a second value, and a finished rotation is left alone', async () => {
  const secret = memorySecret('first');
  const cloudfront = distribution('first');
  secret.start('v2');
  await rotate(step('createSecret'), secret.versions, cloudfront.headers);
  await rotate(step('createSecret'), secret.versions, cloudfront.headers);
  expect(secret.generatedCount()).toBe(1);
  await rotate(step('setSecret'), secret.versions, cloudfront.headers);
  await rotate(step('finishSecret'), secret.versions, cloudfront.headers);
  await rotate(step('setSecret'), secret.versions, cloudfront.headers);
  expect(secret.labels.v2).toEqual(['AWSCURRENT']);
});

test('the test step refuses while an origin still sends another value; nothing becomes current', async () => {
  const secret = memorySecret('first');
  const cloudfront = distribution('first');
  secret.start('v2');
  await rotate(step('createSecret'), secret.versions, cloudfront.headers);
  await expect(rotate(step('testSecret'), secret.versions, cloudfront.headers)).rejects.toThrow(RotationRefused);
  expect(secret.labels.v1).toEqual(['AWSCURRENT']);
});

test('a version that is not pending, or not of this secret, is refused by name', async () => {
  const secret = memorySecret('first');
  const cloudfront = distribution('first');
  await expect(rotate(step('createSecret', 'v9'), secret.versions, cloudfront.headers)).rejects.toThrow(
    'version v9 of Commerce/origin-verify is not a version of it',
  );
  secret.labels.v3 = [];
  await expect(rotate(step('setSecret', 'v3'), secret.versions, cloudfront.headers)).rejects.toThrow(
    'version v3 is not pending',
  );
});
