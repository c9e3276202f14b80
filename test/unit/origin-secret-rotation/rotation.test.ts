import {
  type OriginHeaders,
  RotationRefused,
  type RotationStep,
  type RotationTiming,
  rotate,
  type SecretVersions,
} from '../../../lambda/origin-secret-rotation/rotation';

// The four steps of a rotation of the origin secret, against an in-memory secret with
// Secrets Manager's version labels and replicas, and a distribution whose API origins carry
// the header and deploy a change over a few polls.

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Commerce/origin-verify-AbCdEf';

function memorySecret(initial: string) {
  const values = new Map<string, string>([['v1', initial]]);
  const labels: Record<string, string[]> = { v1: ['AWSCURRENT'] };
  /** Replica regions still without the pending version. */
  const lagging = new Set<string>();
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
    async replicasWithout() {
      return [...lagging];
    },
  };
  /** What Secrets Manager does before calling the function: the new version, labelled pending. */
  const start = (versionId: string) => {
    labels[versionId] = ['AWSPENDING'];
  };
  return { versions, labels, values, lagging, start, generatedCount: () => generated };
}

/** A distribution that deploys a change after `pollsToDeploy` polls; `log` records what happened when. */
function distribution(value: string, log: string[], pollsToDeploy = 2) {
  const origins = [{ header: value }, { header: value }];
  let pollsLeft = 0;
  const headers: OriginHeaders = {
    async values() {
      return origins.map((o) => o.header);
    },
    async set(next) {
      log.push(`set ${next}`);
      for (const origin of origins) origin.header = next;
      pollsLeft = pollsToDeploy;
    },
    async deployed() {
      return pollsLeft-- <= 0;
    },
  };
  return { origins, headers };
}

function timing(log: string[], deployPolls = 5): RotationTiming {
  return { settleMs: 15_000, deployPollMs: 20_000, deployPolls, sleep: async (ms) => void log.push(`sleep ${ms}`) };
}

const step = (Step: RotationStep, token = 'v2') => ({ Step, SecretId: SECRET, ClientRequestToken: token });

test('a rotation makes a new value pending, waits out the authorizers, gives it to every origin, waits for the deploy, then makes it current', async () => {
  // given
  const log: string[] = [];
  const secret = memorySecret('first');
  const cloudfront = distribution('first', log);
  const run = (s: RotationStep) => rotate(step(s), secret.versions, cloudfront.headers, timing(log));
  secret.start('v2');
  // when
  await run('createSecret');
  const pending = secret.values.get('v2');
  expect(pending).toBe('generated-1');
  await run('setSecret');
  await run('testSecret');
  await run('finishSecret');
  // then: the wait comes before CloudFront sends the new value, the deploy before it becomes current
  expect(log).toEqual(['sleep 15000', `set ${pending}`, 'sleep 20000', 'sleep 20000']);
  expect(cloudfront.origins.map((o) => o.header)).toEqual([pending, pending]);
  expect(secret.labels).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
});

test('CloudFront is not given the new value while a replica region lacks it', async () => {
  const log: string[] = [];
  const secret = memorySecret('first');
  const cloudfront = distribution('first', log);
  secret.start('v2');
  await rotate(step('createSecret'), secret.versions, cloudfront.headers, timing(log));
  secret.lagging.add('eu-west-1');
  await expect(rotate(step('setSecret'), secret.versions, cloudfront.headers, timing(log))).rejects.toThrow(
    'the pending value has not reached the replicas in eu-west-1 yet',
  );
  expect(cloudfront.origins.map((o) => o.header)).toEqual(['first', 'first']);
  expect(log).toEqual([]);
});

test('the test step refuses while the distribution is not deployed, and the value cannot become current before', async () => {
  const log: string[] = [];
  const secret = memorySecret('first');
  const cloudfront = distribution('first', log, 99);
  const run = (s: RotationStep) => rotate(step(s), secret.versions, cloudfront.headers, timing(log, 3));
  secret.start('v2');
  await run('createSecret');
  // An origin that still sends the old value: neither the test nor the finish step passes.
  await expect(run('testSecret')).rejects.toThrow('still sends another value');
  await expect(run('finishSecret')).rejects.toThrow(RotationRefused);
  expect(secret.labels.v1).toEqual(['AWSCURRENT']);
  // Sent, but not deployed within the polls.
  await run('setSecret');
  await expect(run('testSecret')).rejects.toThrow('the distribution is not deployed yet');
  expect(log.filter((line) => line === 'sleep 20000')).toHaveLength(3);
});

test('a retried step makes no second value and sets CloudFront once; a finished rotation is left alone', async () => {
  const log: string[] = [];
  const secret = memorySecret('first');
  const cloudfront = distribution('first', log);
  const run = (s: RotationStep) => rotate(step(s), secret.versions, cloudfront.headers, timing(log));
  secret.start('v2');
  await run('createSecret');
  await run('createSecret');
  expect(secret.generatedCount()).toBe(1);
  await run('setSecret');
  await run('setSecret');
  expect(log.filter((line) => line.startsWith('set '))).toHaveLength(1);
  await run('finishSecret');
  await run('setSecret');
  expect(secret.labels.v2).toEqual(['AWSCURRENT']);
});

test('a version that is not pending, or not of this secret, is refused by name', async () => {
  const log: string[] = [];
  const secret = memorySecret('first');
  const cloudfront = distribution('first', log);
  await expect(rotate(step('createSecret', 'v9'), secret.versions, cloudfront.headers, timing(log))).rejects.toThrow(
    `version v9 of ${SECRET} is not a version of it`,
  );
  secret.labels.v3 = [];
  await expect(rotate(step('setSecret', 'v3'), secret.versions, cloudfront.headers, timing(log))).rejects.toThrow(
    'version v3 is not pending',
  );
});
