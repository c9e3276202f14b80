import { readFileSync } from 'node:fs';
import { type Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  type AcknowledgementScan,
  acknowledgementsOf,
  listDifferences,
} from '../../../lib/compliance/acknowledgements';
import {
  ACKNOWLEDGEMENTS_FILE,
  type AcknowledgementsDocument,
  buildApp,
  documentOf,
  documentText,
  scanModels,
  staleness,
} from '../../../scripts/acknowledgements';

// docs/security-acknowledgements.json is the reviewed list of every acknowledgement the app
// makes in both deployment models. It must be exactly what the app makes now, and an
// acknowledgement added in code, dropped from the list, gone from the code or reworded must
// each fail the comparison, naming it. Nothing here writes the file.

let scans: Record<string, AcknowledgementScan>;
let made: AcknowledgementsDocument;

beforeAll(() => {
  scans = scanModels();
  made = documentOf(scans);
});

test('docs/security-acknowledgements.json is every acknowledgement the app makes (review, then npm run acknowledgements)', () => {
  const checkedIn = readFileSync(ACKNOWLEDGEMENTS_FILE, 'utf8');
  const listed = JSON.parse(checkedIn) as AcknowledgementsDocument;
  expect(listDifferences(listed.acknowledgements, made.acknowledgements)).toEqual([]);
  expect(listed.counts).toEqual(made.counts);
  expect(checkedIn).toBe(documentText(made));
  // Both models acknowledge findings of every pack but construct warnings.
  for (const { total, byPack } of Object.values(made.counts)) {
    expect(total).toBe(Object.values(byPack).reduce((sum, count) => sum + count, 0));
    for (const pack of ['AwsSolutions', 'cdk-validator-cfnguard']) expect(byPack[pack]).toBeGreaterThan(0);
  }
});

test('an acknowledgement added in code and not on the list fails the comparison, naming it', () => {
  // given: a new construct in the active-active app, acknowledged as code would do it
  const app = buildApp('active-active');
  const stack = app.node.findChild('Commerce-eu-west-1-Stateless') as Stack;
  const queue = new sqs.Queue(stack, 'UnreviewedQueue', { enforceSSL: true });
  const reason = 'Planted by the test: a queue with no dead-letter queue.';
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  // when
  const after = documentOf({ ...scans, 'active-active': acknowledgementsOf(app) });
  // then
  const expected = `added: AwsSolutions-SQS3 on Commerce-eu-west-1-Stateless/UnreviewedQueue: ${JSON.stringify(reason)} (AwsSolutions; active-active)`;
  expect(listDifferences(made.acknowledgements, after.acknowledgements)).toEqual([expected]);
  expect(staleness(documentText(made), after)).toContain(expected);
});

test('an acknowledgement dropped from the list fails the comparison, naming it', () => {
  // given: a copy of the list without one Control Tower acknowledgement
  const dropped = made.acknowledgements.find((entry) => entry.pack === 'cdk-validator-cfnguard');
  if (!dropped) throw new Error('no Control Tower acknowledgement in the list');
  const list = made.acknowledgements.filter((entry) => entry !== dropped);
  // when / then
  expect(listDifferences(list, made.acknowledgements)).toEqual([
    `added: ${dropped.rule} on ${dropped.path}: ${JSON.stringify(dropped.reason)} (${dropped.pack}; ${dropped.models.join(', ')})`,
  ]);
});

test('a listed acknowledgement the code no longer makes fails the comparison, naming it', () => {
  // given: the app without one AwsSolutions acknowledgement, against the whole list
  const gone = made.acknowledgements.find((entry) => entry.pack === 'AwsSolutions');
  if (!gone) throw new Error('no AwsSolutions acknowledgement in the list');
  const madeWithout = made.acknowledgements.filter((entry) => entry !== gone);
  // when / then
  expect(listDifferences(made.acknowledgements, madeWithout)).toEqual([
    `removed: ${gone.rule} on ${gone.path}: ${JSON.stringify(gone.reason)} (${gone.pack}; ${gone.models.join(', ')})`,
  ]);
});

test('a reworded reason fails the comparison, naming the old and the new reason', () => {
  // given: a copy of the list with one reason as it read before a rewording
  const [reworded] = made.acknowledgements;
  if (!reworded) throw new Error('the list is empty');
  const list = made.acknowledgements.map((entry) =>
    entry === reworded ? { ...entry, reason: 'An earlier wording.' } : entry,
  );
  const described = (reason: string) => `${JSON.stringify(reason)} (${reworded.pack}; ${reworded.models.join(', ')})`;
  // when / then
  expect(listDifferences(list, made.acknowledgements)).toEqual([
    `changed: ${reworded.rule} on ${reworded.path}: was ${described('An earlier wording.')}, now ${described(reworded.reason)}`,
  ]);
});
