import { type BuiltPlatform, buildPlatform, resourcesOf } from '../../support/platform';

// The web clients of the whole app as `cdk synth` writes them: the config reaches every
// jurisdiction's pool, and CDK's OAuth defaults (implicit grant, https://example.com as the
// callback) appear nowhere. The client's own properties are in test/unit/identity.

/** Every user pool client of the app, by stack name and logical id. */
function webClients(templates: BuiltPlatform['templates']): Record<string, Record<string, unknown>> {
  const clients: Record<string, Record<string, unknown>> = {};
  for (const [stackName, template] of Object.entries(templates)) {
    for (const [id, resource] of Object.entries(resourcesOf(template, 'AWS::Cognito::UserPoolClient'))) {
      clients[`${stackName}/${id}`] = resource.Properties ?? {};
    }
  }
  return clients;
}

describe('web clients of the default topology', () => {
  let templates: BuiltPlatform['templates'];
  // given the default topology (no callback URLs); when the whole app is synthesized
  beforeAll(() => {
    ({ templates } = buildPlatform());
  });

  test('one per jurisdiction, in its primary region, with no OAuth', () => {
    // then
    const clients = webClients(templates);
    expect(Object.keys(clients).sort()).toEqual([
      'Commerce-eu-west-1-Stateful/UsersUserPoolWebClientEE6B7AD5',
      'Commerce-us-east-1-Stateful/UsersUserPoolWebClientEE6B7AD5',
    ]);
    for (const properties of Object.values(clients)) {
      expect(properties).toMatchObject({ AllowedOAuthFlowsUserPoolClient: false });
      expect(properties).not.toHaveProperty('AllowedOAuthFlows');
      expect(properties).not.toHaveProperty('CallbackURLs');
    }
  });

  test('no template allows the implicit grant or holds https://example.com', () => {
    // then
    for (const [stackName, template] of Object.entries(templates)) {
      const text = JSON.stringify(template.toJSON());
      expect([stackName, text.includes('https://example.com')]).toEqual([stackName, false]);
      expect([stackName, text.includes('"implicit"')]).toEqual([stackName, false]);
    }
  });
});

describe('web clients given the web app URLs', () => {
  const callbackUrls = ['https://shop.example.com/signed-in'];
  const logoutUrls = ['https://shop.example.com/'];
  let templates: BuiltPlatform['templates'];
  // given a topology with the web app's callback and logout URLs; when the app is synthesized
  beforeAll(() => {
    ({ templates } = buildPlatform({ identity: { callbackUrls, logoutUrls } }));
  });

  test("every jurisdiction's client allows the code grant only, with the OpenID scopes and those URLs", () => {
    // then
    const clients = Object.values(webClients(templates));
    expect(clients).toHaveLength(2);
    for (const properties of clients) {
      expect(properties).toMatchObject({
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthScopes: ['openid', 'email', 'profile'],
        CallbackURLs: callbackUrls,
        LogoutURLs: logoutUrls,
      });
    }
    for (const template of Object.values(templates)) {
      expect(JSON.stringify(template.toJSON())).not.toContain('https://example.com');
    }
  });
});
