import { Client } from 'pg';
import type { FunctionEnvironment } from '../shared/environment';
import { logger } from '../shared/observability';
import { clientConfigFor, migrationTargetFrom } from './connection';
import { MIGRATION_ROLE, MIGRATIONS } from './migrations';
import { type InstanceSession, migrateWriter, type WriterReport } from './writer-search';

type MigrationHandler = () => Promise<WriterReport>;

/**
 * Run by the deploy (a CDK Trigger) in every region of the jurisdiction: the region whose
 * cluster holds the writer applies what is pending; the others find replicas and return.
 * A thrown MigrationError fails the deploy with the migration's name and the database's
 * error, and CloudFormation rolls the stack back.
 */
export function createMigrationHandler(env: FunctionEnvironment): MigrationHandler {
  const target = migrationTargetFrom(env);
  async function open(host: string): Promise<InstanceSession> {
    const client = new Client(await clientConfigFor(target, host));
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }
  return async () => {
    const report = await migrateWriter(target.hosts, open, MIGRATIONS, { ownerRole: MIGRATION_ROLE });
    logger.info('schema migrations', { ...report, login: target.login.kind });
    return report;
  };
}

let migration: MigrationHandler | undefined;

export const handler: MigrationHandler = () => {
  migration ??= createMigrationHandler(process.env);
  return migration();
};
