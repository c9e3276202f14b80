import { Match, Template } from 'aws-cdk-lib/assertions';
import { ADMIN_GROUP, UserDirectory } from '../../../lib/identity/user-directory';
import { oneStack } from '../../support/one-stack';

describe('UserDirectory', () => {
  // given a stack in the jurisdiction's primary region; when its user directory is built
  const { stack } = oneStack({ region: 'us-east-1' });
  const directory = new UserDirectory(stack, 'Users');
  const template = Template.fromStack(stack);

  test('a retained, deletion-protected pool with e-mail sign-in, strong passwords and TOTP required', () => {
    // then
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResource('AWS::Cognito::UserPool', {
      Properties: {
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        MfaConfiguration: 'ON',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        DeletionProtection: 'ACTIVE',
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        },
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
        UserPoolTier: 'PLUS',
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('a public web client (SRP, and admin sign-in for the canaries) that hides whether a user exists', () => {
    // then
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      PreventUserExistenceErrors: 'ENABLED',
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: stack.getLogicalId(directory.userPool.node.defaultChild as never) },
    });
  });

  test('with no callback URLs, the web client has no OAuth: no flows, scopes, callbacks or hosted sign-in', () => {
    // then
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlowsUserPoolClient: false,
      AllowedOAuthFlows: Match.absent(),
      AllowedOAuthScopes: Match.absent(),
      CallbackURLs: Match.absent(),
      LogoutURLs: Match.absent(),
      DefaultRedirectURI: Match.absent(),
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  test("tokens live as long as Cognito's defaults, stated, and refresh tokens can be revoked", () => {
    // then: 60-minute ID and access tokens (the canaries and docs/design.md count on the ID
    // token's hour), 30-day refresh tokens, a 3-minute sign-in session
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 30 * 24 * 60,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
      AuthSessionValidity: 3,
      EnableTokenRevocation: true,
    });
  });

  test('an admin group, whose members may create and update products', () => {
    // then
    expect(ADMIN_GROUP).toBe('admin');
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'admin',
      UserPoolId: { Ref: stack.getLogicalId(directory.userPool.node.defaultChild as never) },
    });
  });
});

describe("UserDirectory with the web app's OAuth URLs", () => {
  // given a stack in the primary region and the web app's callback and logout URLs
  const callbackUrls = ['https://shop.example.com/signed-in', 'https://www.shop.example.com/signed-in'];
  const logoutUrls = ['https://shop.example.com/'];
  const { stack } = oneStack({ region: 'eu-west-1' });
  // when the user directory is built with them
  new UserDirectory(stack, 'Users', { callbackUrls, logoutUrls });
  const template = Template.fromStack(stack);

  test('the web client allows the authorization code grant only, the OpenID scopes only, those URLs only', () => {
    // then
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: callbackUrls,
      LogoutURLs: logoutUrls,
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  test('its sign-in flows, token lifetimes and revocation do not change', () => {
    // then
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      IdTokenValidity: 60,
      EnableTokenRevocation: true,
    });
  });
});

describe('UserDirectory given URLs it cannot use', () => {
  test.each([
    [
      { callbackUrls: ['http://shop.example.com/signed-in'] },
      /Users: callbackUrls\[0\]: "http:\/\/shop.example.com\/signed-in" must start with https:\/\//,
    ],
    [
      { callbackUrls: ['https://shop.example.com/'], logoutUrls: ['http://localhost:3000/'] },
      /Users: logoutUrls\[0\]: "http:\/\/localhost:3000\/" must start with https:\/\//,
    ],
    [{ logoutUrls: ['https://shop.example.com/'] }, /Users: logoutUrls needs callbackUrls/],
  ])('%j is refused naming the construct and the field', (props, message) => {
    // given a stack in the primary region
    const { stack } = oneStack({ region: 'us-east-1' });
    // when the directory is built with the props; then it throws
    expect(() => new UserDirectory(stack, 'Users', props)).toThrow(message);
  });
});
