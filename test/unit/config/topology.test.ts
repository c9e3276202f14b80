import { jurisdictionDirectory } from '../../../lib/config/jurisdiction-directory';
import { DEFAULT_TOPOLOGY, resolveTopology, TopologyConfigError } from '../../../lib/config/topology';
import { buildPlatform } from '../../support/platform';

const [globalDefault, euDefault] = DEFAULT_TOPOLOGY.jurisdictions;

function issuesOf(overrides: Record<string, unknown>): { field: string; message: string }[] {
  try {
    resolveTopology(overrides, 'test');
  } catch (error) {
    if (error instanceof TopologyConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('topology config', () => {
  test('the defaults are the topology of the design (docs/design.md#topology)', () => {
    const topology = resolveTopology();
    expect(topology.deploymentModel).toBe('active-active');
    expect(topology.config.edgeRegion).toBe('us-east-1');
    expect(topology.jurisdictions.map((j) => [j.name, j.primaryRegion, j.regions])).toEqual([
      ['global', 'us-east-1', ['us-east-1', 'ap-southeast-1']],
      ['eu', 'eu-west-1', ['eu-west-1', 'eu-central-1']],
    ]);
    expect(topology.servingRegions).toEqual(['us-east-1', 'ap-southeast-1', 'eu-west-1', 'eu-central-1']);
    expect(topology.apiHostname).toBe('api.shop.example.com');
  });

  test('deployOrder puts the primary first whatever the list order', () => {
    const topology = resolveTopology({
      jurisdictions: [
        { name: 'eu', residency: 'eu', primaryRegion: 'eu-central-1', regions: ['eu-west-1', 'eu-central-1'] },
      ],
    });
    expect(topology.deployOrder(topology.jurisdictionOf('eu-west-1'))).toEqual(['eu-central-1', 'eu-west-1']);
  });

  test('an unknown region names the field and the allowed regions', () => {
    const issues = issuesOf({
      jurisdictions: [{ ...globalDefault, regions: ['us-east-1', 'ap-southeast-9'] }, euDefault],
    });
    expect(issues).toContainEqual({
      field: 'jurisdictions[0].regions[1]',
      message: expect.stringMatching(/^unknown region "ap-southeast-9"; allowed: us-east-1, .*eu-west-1/),
    });
  });

  test('a region in two jurisdictions names the second place and the owner', () => {
    const issues = issuesOf({
      jurisdictions: [globalDefault, { ...euDefault, residency: 'none', regions: ['eu-west-1', 'us-east-1'] }],
    });
    expect(issues).toEqual([
      {
        field: 'jurisdictions[1].regions[1]',
        message: 'region "us-east-1" is already in jurisdiction "global"; a region belongs to exactly one jurisdiction',
      },
    ]);
  });

  test('a primary outside its jurisdiction names primaryRegion and the allowed regions', () => {
    const issues = issuesOf({ jurisdictions: [{ ...globalDefault, primaryRegion: 'eu-west-1' }, euDefault] });
    expect(issues).toContainEqual({
      field: 'jurisdictions[0].primaryRegion',
      message: `"eu-west-1" is not one of jurisdiction "global"'s regions; allowed: us-east-1, ap-southeast-1`,
    });
  });

  test('an EU jurisdiction holding a non-EU region names the region and the EU regions', () => {
    const issues = issuesOf({
      jurisdictions: [
        { ...globalDefault, regions: ['us-east-1'] },
        { ...euDefault, regions: ['eu-west-1', 'eu-central-1', 'ap-southeast-1'] },
      ],
    });
    expect(issues).toEqual([
      {
        field: 'jurisdictions[1].regions[2]',
        message: expect.stringMatching(
          /^region "ap-southeast-1" is outside the EU but jurisdiction "eu" is EU-pinned \(residency "eu"\); allowed: .*eu-west-1/,
        ),
      },
    ]);
  });

  test('London and Zurich are not EU regions despite their prefix', () => {
    for (const region of ['eu-west-2', 'eu-central-2']) {
      const issues = issuesOf({ jurisdictions: [globalDefault, { ...euDefault, regions: ['eu-west-1', region] }] });
      expect(issues.map((issue) => issue.field)).toEqual(['jurisdictions[1].regions[1]']);
    }
  });

  test('an empty jurisdiction names its regions field', () => {
    const issues = issuesOf({ jurisdictions: [globalDefault, { ...euDefault, regions: [] }] });
    expect(issues).toContainEqual({
      field: 'jurisdictions[1].regions',
      message: 'jurisdiction "eu" has no regions; list at least one (its primary region first)',
    });
  });

  test('an unknown deployment model names the field and the allowed models', () => {
    expect(issuesOf({ deploymentModel: 'active-standby' })).toEqual([
      {
        field: 'deploymentModel',
        message: '"active-standby" is not a deployment model; allowed: active-active, active-passive',
      },
    ]);
  });

  test('misspelt fields are rejected rather than ignored', () => {
    expect(issuesOf({ deploymentModle: 'active-passive' })).toEqual([
      { field: '(root)', message: 'unknown field(s) "deploymentModle"' },
    ]);
  });

  test('the error message lists every issue with the config source', () => {
    expect(() => resolveTopology({ deploymentModel: 'x', account: '12' }, 'my-topology.json')).toThrow(
      /^Invalid topology config \(my-topology\.json\):\n {2}- account: must be a 12-digit AWS account id\n {2}- deploymentModel: "x" is not/,
    );
  });
});

describe('operations config', () => {
  test('a bad threshold is refused naming the field, before anything is built', () => {
    expect(() => buildPlatform({ operations: { alarmThresholds: { api5xxPercent: 150 } } })).toThrow(
      TopologyConfigError,
    );
    expect(() => buildPlatform({ operations: { alarmThresholds: { api5xxPercent: 150 } } })).toThrow(
      /operations\.alarmThresholds\.api5xxPercent: must be a percentage, at most 100/,
    );
    expect(() => buildPlatform({ operations: { alarmEmails: ['not-an-address'] } })).toThrow(
      /operations\.alarmEmails\[0\]/,
    );
  });

  test('overrides replace only the thresholds they name; the others keep their defaults', () => {
    // given
    const defaults = resolveTopology({}, 'test').operations.alarmThresholds;
    // when
    const overridden = resolveTopology(
      { operations: { alarmThresholds: { api5xxPercent: 2, evaluationPeriods: 4 } } },
      'test',
    ).operations.alarmThresholds;
    // then
    expect(overridden).toEqual({ ...defaults, api5xxPercent: 2, evaluationPeriods: 4 });
    expect(defaults).toMatchObject({ api5xxPercent: 5, evaluationPeriods: 3, canarySuccessPercent: 90 });
  });
});

describe('payments config', () => {
  test('the default processor is unconfigured, with no secret', () => {
    expect(resolveTopology({}, 'test').payments).toEqual({ processor: 'unconfigured' });
  });

  test('stripe with the name of its secret is accepted', () => {
    const payments = { processor: 'stripe', secretName: 'commerce/stripe' };
    expect(resolveTopology({ payments }, 'test').payments).toEqual(payments);
  });

  test.each([
    [{ processor: 'stripe' }, 'payments.secretName', /processor "stripe" needs the name of the Secrets Manager secret/],
    [{ processor: 'recording', secretName: 'x' }, 'payments.secretName', /processor "recording" uses no secret/],
    [{ processor: 'paypal' }, 'payments.processor', /must be one of: unconfigured, recording, stripe/],
    [{ processor: 'stripe', secretName: 'has spaces' }, 'payments.secretName', /must be a Secrets Manager secret name/],
  ])('%j is refused naming %s', (payments, field, message) => {
    const issues = issuesOf({ payments });
    expect(issues.map((issue) => issue.field)).toEqual([field]);
    expect(issues[0]?.message).toMatch(message);
  });
});

describe('identity config', () => {
  test('the default is no OAuth: no callback or logout URLs', () => {
    expect(resolveTopology({}, 'test').identity).toEqual({ callbackUrls: [], logoutUrls: [] });
  });

  test('https callback and logout URLs are accepted as given; logoutUrls may be left out', () => {
    // given
    const callbackUrls = ['https://shop.example.com/signed-in', 'https://shop.example.com:8443/cb?from=login'];
    // when
    const withLogout = resolveTopology({ identity: { callbackUrls, logoutUrls: ['https://shop.example.com/'] } });
    const withoutLogout = resolveTopology({ identity: { callbackUrls } });
    // then
    expect(withLogout.identity).toEqual({ callbackUrls, logoutUrls: ['https://shop.example.com/'] });
    expect(withoutLogout.identity).toEqual({ callbackUrls, logoutUrls: [] });
  });

  test.each([
    [
      { callbackUrls: ['http://shop.example.com/cb'] },
      'identity.callbackUrls[0]',
      /"http:\/\/shop\.example\.com\/cb" must start with https:\/\//,
    ],
    [
      { callbackUrls: ['https://shop.example.com/', 'http://localhost:3000/cb'] },
      'identity.callbackUrls[1]',
      /"http:\/\/localhost:3000\/cb" must start with https:\/\/ \(http:\/\/localhost included/,
    ],
    [{ callbackUrls: ['shop.example.com/cb'] }, 'identity.callbackUrls[0]', /must start with https:\/\//],
    [{ callbackUrls: ['https:shop.example.com/cb'] }, 'identity.callbackUrls[0]', /must start with https:\/\//],
    [{ callbackUrls: [' https://shop.example.com/cb'] }, 'identity.callbackUrls[0]', /must start with https:\/\//],
    [{ callbackUrls: ['https://'] }, 'identity.callbackUrls[0]', /"https:\/\/" is not a URL/],
    [{ callbackUrls: ['https://shop.example.com/cb '] }, 'identity.callbackUrls[0]', /contains white space/],
    [{ callbackUrls: ['https://shop.example.com/#/cb'] }, 'identity.callbackUrls[0]', /has a fragment/],
    [
      { callbackUrls: ['https://user:pw@shop.example.com/cb'] },
      'identity.callbackUrls[0]',
      /must not carry a user name or password/,
    ],
    [
      { callbackUrls: [`https://shop.example.com/${'a'.repeat(1010)}`] },
      'identity.callbackUrls[0]',
      /longer than Cognito's 1024 characters/,
    ],
    [
      { callbackUrls: ['https://shop.example.com/cb', 'https://shop.example.com/cb'] },
      'identity.callbackUrls[1]',
      /is listed twice/,
    ],
    [
      { callbackUrls: ['https://shop.example.com/cb'], logoutUrls: ['ftp://shop.example.com/'] },
      'identity.logoutUrls[0]',
      /must start with https:\/\//,
    ],
    [{ logoutUrls: ['https://shop.example.com/'] }, 'identity.logoutUrls', /logout URLs need callbackUrls/],
    [{ callbackUrls: 'https://shop.example.com/cb' }, 'identity.callbackUrls', /expected array/],
    [{ callbackUrl: ['https://shop.example.com/cb'] }, 'identity', /unknown field\(s\) "callbackUrl"/],
  ])('%j is refused naming %s', (identity, field, message) => {
    const issues = issuesOf({ identity });
    expect(issues.map((issue) => issue.field)).toEqual([field]);
    expect(issues[0]?.message).toMatch(message);
  });

  test("more than 100 URLs (Cognito's limit) are refused", () => {
    const callbackUrls = Array.from({ length: 101 }, (_, i) => `https://shop.example.com/cb/${i}`);
    expect(issuesOf({ identity: { callbackUrls } })).toEqual([
      { field: 'identity.callbackUrls', message: "must list at most 100 URLs (Cognito's limit)" },
    ]);
  });

  test('a bad URL stops the app before anything is built, naming the field', () => {
    expect(() => buildPlatform({ identity: { callbackUrls: ['http://shop.example.com/cb'] } })).toThrow(
      /identity\.callbackUrls\[0\]: "http:\/\/shop\.example\.com\/cb" must start with https:\/\//,
    );
  });
});

describe('jurisdiction directory', () => {
  test('names each user pool region and each jurisdiction API host, from the topology alone', () => {
    // given
    const topology = resolveTopology({}, 'test');
    // when
    const directory = jurisdictionDirectory(topology);
    // then
    expect(directory).toEqual({
      byPrimaryRegion: { 'us-east-1': 'global', 'eu-west-1': 'eu' },
      apiHosts: { global: 'global.api.shop.example.com', eu: 'eu.api.shop.example.com' },
    });
  });
});
