import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ADMIN_GROUP } from '../../lambda/shared/api-contract';
import { redirectUrlProblem } from '../config/topology';

export { ADMIN_GROUP };

export interface UserDirectoryProps {
  /**
   * Where the pool may send a browser back after an OAuth 2.0 sign-in (managed login or a
   * federated provider) of the web app. Given, the web client allows the authorization code
   * grant with these URLs only; each must be `https://`.
   * @default - none: the web client has no OAuth at all, and the web app signs in with SRP
   */
  readonly callbackUrls?: readonly string[];
  /**
   * Where the pool may send a browser after signing it out; only with `callbackUrls`.
   * @default - none
   */
  readonly logoutUrls?: readonly string[];
}

/**
 * The user pool of one jurisdiction, in its primary region: a user signs up in the pool
 * of their home jurisdiction and stays there, so the token's issuer tells every region
 * which jurisdiction the user belongs to without reading personal data.
 */
export class UserDirectory extends Construct {
  readonly userPool: cognito.UserPool;
  readonly webClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: UserDirectoryProps = {}) {
    super(scope, id);
    const callbackUrls = [...(props.callbackUrls ?? [])];
    const logoutUrls = [...(props.logoutUrls ?? [])];
    this.validateRedirectUrls('callbackUrls', callbackUrls);
    this.validateRedirectUrls('logoutUrls', logoutUrls);
    if (logoutUrls.length > 0 && callbackUrls.length === 0) {
      throw new Error(`${this.node.path}: logoutUrls needs callbackUrls (without them the web client has no OAuth)`);
    }
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.webClient = this.userPool.addClient('WebClient', {
      // The shop's web app signs in with SRP; admin sign-in needs IAM credentials
      // (AdminInitiateAuth): it is how the canaries sign in their user, and opens nothing to
      // the public. CDK adds refresh-token sign-in (ALLOW_REFRESH_TOKEN_AUTH).
      authFlows: { userSrp: true, adminUserPassword: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      // Without callback URLs, no OAuth: CDK's default would allow the implicit grant, which
      // hands tokens to the browser in the URL, with every scope and https://example.com as a
      // callback. With them, the authorization code grant only, and the OpenID scopes only:
      // no aws.cognito.signin.user.admin, the scope of the user's self-service API calls.
      // https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-client-apps.html
      ...(callbackUrls.length === 0
        ? { disableOAuth: true }
        : {
            oAuth: {
              flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
              callbackUrls,
              logoutUrls,
            },
          }),
      // Cognito's defaults, stated: the canaries sign in again 5 minutes before their ID
      // token's hour ends, and while the pool's region is down a shopper is served for the
      // rest of that hour (docs/design.md). A sign-in's MFA step has 3 minutes.
      // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html
      idTokenValidity: Duration.minutes(60),
      accessTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.days(30),
      authSessionValidity: Duration.minutes(3),
      // So that a signed-out or stolen session's refresh token can be revoked (RevokeToken),
      // and with it the tokens it issued. https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html
      enableTokenRevocation: true,
    });
    new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: ADMIN_GROUP,
      description: 'May create and update products and set their stock.',
    });
  }

  /** Checks redirect URLs as the topology does, for a directory built from code rather than config. */
  private validateRedirectUrls(field: string, urls: readonly string[]): void {
    urls.forEach((url, i) => {
      const problem = redirectUrlProblem(url);
      if (problem) throw new Error(`${this.node.path}: ${field}[${i}]: ${problem}`);
    });
  }
}
