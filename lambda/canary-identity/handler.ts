import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { regionOfArn } from '../canary/cognito-token-source';
import { type FunctionEnvironment, requiredEnv } from '../shared/environment';
import { type CanaryIdentityResult, configFromEnvironment, handleEvent } from './dispatch';
import type { CanaryIdentityDependencies } from './identity';

/*
 * The canary identity function: enrols the region's canary user at deploy (CDK trigger)
 * and rotates its password (Secrets Manager). The logic is in the modules next to this one;
 * here only the clients: Cognito in the pool's region (the jurisdiction's primary region),
 * Secrets Manager and DynamoDB in this one. The trigger's provider (aws-cdk-lib/triggers)
 * logs the whole invoke response, the returned payload included, and on a failure puts the
 * error's message and stack trace in the CloudFormation stack events: what this returns and
 * what it throws are outcomes only, never a credential, and so is everything it logs.
 */

type CanaryIdentityHandler = (event: unknown) => Promise<CanaryIdentityResult>;

/**
 * `overrides` replace the clock, the waits and the log (the deploy rehearsal's stand-in pool
 * keeps its own time).
 */
export function createCanaryIdentityHandler(
  env: FunctionEnvironment,
  overrides: Pick<CanaryIdentityDependencies, 'now' | 'sleep' | 'log'> = {},
): CanaryIdentityHandler {
  const config = configFromEnvironment(env);
  const dependencies: CanaryIdentityDependencies = {
    log: (message, fields) => console.info(JSON.stringify({ message, ...fields })),
    ...overrides,
    config,
    clients: {
      cognito: new CognitoIdentityProviderClient({ region: config.userPoolRegion, maxAttempts: 5 }),
      secrets: new SecretsManagerClient({ region: regionOfArn(config.secretArn), maxAttempts: 5 }),
      dynamodb: new DynamoDBClient({ region: requiredEnv(env, 'AWS_REGION'), maxAttempts: 5 }),
    },
  };
  return (event) => handleEvent(dependencies, event);
}

let canaryIdentity: CanaryIdentityHandler | undefined;

export const handler: CanaryIdentityHandler = (event) => {
  canaryIdentity ??= createCanaryIdentityHandler(process.env as FunctionEnvironment);
  return canaryIdentity(event);
};
