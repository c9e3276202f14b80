import { Template } from 'aws-cdk-lib/assertions';
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
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      PreventUserExistenceErrors: 'ENABLED',
      ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: stack.getLogicalId(directory.userPool.node.defaultChild as never) },
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
