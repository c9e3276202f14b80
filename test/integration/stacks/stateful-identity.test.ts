import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveTopology } from '../../../lib/config/topology';
import { type BuiltPlatform, buildPlatform, normalisedTemplate, resourcesOf, templateOf } from '../../support/platform';
import { STATEFUL_TYPES } from '../../support/templates';

const EXPECTED_FILE = path.join(__dirname, 'stateful-logical-ids.json');
let templates: BuiltPlatform['templates'];
// One synthesis of the active-active app (seconds on 2 cores), shared by every test.
beforeAll(() => {
  ({ templates } = buildPlatform());
});

/** The app's stacks by name, known from the topology before anything is synthesized. */
const STACK_NAMES = [
  'Commerce-Edge',
  'Commerce-EdgeLogs',
  ...resolveTopology({}, 'test').servingRegions.flatMap((r) => [`Commerce-${r}-Stateful`, `Commerce-${r}-Stateless`]),
].sort();

/**
 * Resources of a stateful type whose content the deploy itself recreates: the canary user's
 * secret is written by the enrolment trigger whenever its stored credentials do not sign in,
 * so replacing it loses nothing, and it is deleted with its stack rather than left holding a
 * password. The origin secret is generated at creation and given to CloudFront by the same
 * deploy (a dynamic reference to the new secret), and the regional APIs read it again when a
 * proof matches none of their values: replacing it costs a few refused requests at most.
 */
const REGENERATED = /^(CanaryIdentityCredentials|OriginVerificationSecret)[0-9A-F]{8}$/;
const isStateful = (id: string, type: string) => STATEFUL_TYPES.has(type) && !REGENERATED.test(id);

function statefulIds(): Record<string, Record<string, string>> {
  const result: Record<string, Record<string, string>> = {};
  for (const [stackName, template] of Object.entries(templates).sort()) {
    const ids = Object.entries(resourcesOf(template))
      .filter(([id, resource]) => isStateful(id, resource.Type))
      .map(([id, resource]) => [id, resource.Type] as const)
      .sort();
    if (ids.length > 0) result[stackName] = Object.fromEntries(ids);
  }
  return result;
}

describe('stateful resources', () => {
  test('keep the logical ids recorded in stateful-logical-ids.json', () => {
    const expected = JSON.parse(readFileSync(EXPECTED_FILE, 'utf8'));
    expect(statefulIds()).toEqual(expected);
  });

  // Instances follow their cluster; a VPC holds no data and cannot be deleted while the
  // retained cluster sits in it.
  const NOT_RETAINED = new Set(['AWS::RDS::DBInstance', 'AWS::EC2::VPC']);

  test('that hold data are retained when removed from a stack', () => {
    for (const template of Object.values(templates)) {
      for (const [id, resource] of Object.entries(resourcesOf(template))) {
        if (isStateful(id, resource.Type) && !NOT_RETAINED.has(resource.Type)) {
          expect([id, resource.DeletionPolicy]).toEqual([id, 'Retain']);
        }
      }
    }
  });
});

describe('snapshots (asset hashes normalised)', () => {
  test('cover every stack of the app', () => {
    expect(Object.keys(templates).sort()).toEqual(STACK_NAMES);
  });

  test.each(STACK_NAMES)('%s', (stackName) => {
    expect(normalisedTemplate(templateOf({ templates }, stackName))).toMatchSnapshot();
  });
});
