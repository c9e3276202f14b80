import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import type { ClientConfig } from 'pg';
import { z } from 'zod';
import { type FunctionEnvironment, optionalEnv, requiredEnv } from '../shared/environment';
import { MIGRATION_ROLE } from './migrations';

/** The fields of an RDS-generated master secret that a connection needs. */
const MasterSecret = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
});

/** Where the migration function signs in, and as whom. */
export type MigrationLogin =
  /** The primary region: the master user, whose password only that region's secret holds. */
  | { readonly kind: 'master'; readonly secretArn: string }
  /** Any other region: the migration role, with an IAM token (no password exists for it). */
  | { readonly kind: 'iam'; readonly username: string };

export interface MigrationTarget {
  /** The cluster's instance endpoints: one of them is the writer, if the cluster has one. */
  readonly hosts: readonly string[];
  readonly port: number;
  readonly database: string;
  readonly region: string;
  readonly login: MigrationLogin;
}

/** The target of this region's migration function, from its environment. */
export function migrationTargetFrom(env: FunctionEnvironment): MigrationTarget {
  const secretArn = optionalEnv(env, 'DB_SECRET_ARN');
  return {
    hosts: requiredEnv(env, 'DB_INSTANCE_ENDPOINTS')
      .split(',')
      .map((host) => host.trim())
      .filter(Boolean),
    port: Number(optionalEnv(env, 'DB_PORT') ?? 5432),
    database: optionalEnv(env, 'DB_NAME') ?? 'commerce',
    region: requiredEnv(env, 'AWS_REGION'),
    login: secretArn ? { kind: 'master', secretArn } : { kind: 'iam', username: MIGRATION_ROLE },
  };
}

/**
 * A `pg` client configuration for one instance of the target: TLS verified against the RDS
 * certificate authorities (Lambda's bundle, which `NODE_EXTRA_CA_CERTS` adds to Node's trust store).
 */
export async function clientConfigFor(
  target: MigrationTarget,
  host: string,
  secrets: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({ region: target.region }),
): Promise<ClientConfig> {
  const base = {
    host,
    port: target.port,
    database: target.database,
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis: 10_000,
    // A migration may rewrite a table; the deploy's own timeout bounds it, not this.
    statement_timeout: 0,
  };
  if (target.login.kind === 'iam') {
    const signer = new Signer({
      hostname: host,
      port: target.port,
      username: target.login.username,
      region: target.region,
    });
    return { ...base, user: target.login.username, password: await signer.getAuthToken() };
  }
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: target.login.secretArn }));
  const parsed = MasterSecret.safeParse(JSON.parse(answer.SecretString ?? '{}'));
  if (!parsed.success) throw new Error('the master secret has no username or password');
  return { ...base, user: parsed.data.username, password: parsed.data.password };
}
