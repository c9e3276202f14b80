import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { OriginSecretValues } from './origin-proof';

/** The staging labels of every version that can be in use while the secret rotates. */
const STAGES_IN_USE = ['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS'] as const;

/**
 * The origin secret's values in use, from this region's replica in Secrets Manager. The SDK,
 * not Powertools' `getSecret`: Powertools caches by secret name, and the check needs three
 * versions of one secret and a fresh read when a rotation's new value arrives.
 */
export function secretsManagerOriginValues(client: SecretsManagerClient, secretId: string): OriginSecretValues {
  return async () => {
    const values = await Promise.all(
      STAGES_IN_USE.map(async (stage) => {
        try {
          const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
          return answer.SecretString ?? '';
        } catch (error) {
          // Only a rotation has AWSPENDING, and a secret never rotated has no AWSPREVIOUS.
          if (stage !== 'AWSCURRENT' && (error as Error).name === ResourceNotFoundException.name) return '';
          throw error;
        }
      }),
    );
    return values.filter(Boolean);
  };
}

export { SecretsManagerClient };
