import { Client } from 'pg';
import { logger } from '../shared/observability';
import { clientConfigFor, migrationTargetFrom } from './connection';
import { applyMigrations, type MigrationReport } from './ledger';
import { MIGRATION_ROLE, MIGRATIONS } from './migrations';

const target = migrationTargetFrom(process.env);

/**
 * Run by the deploy (a CDK Trigger) in every region of the jurisdiction: the region whose
 * cluster is the writer applies what is pending; the others find a replica and return.
 * A thrown MigrationError fails the deploy with the migration's name and the database's
 * error, and CloudFormation rolls the stack back.
 */
export async function handler(): Promise<MigrationReport> {
  const client = new Client(await clientConfigFor(target));
  await client.connect();
  try {
    const report = await applyMigrations(client, MIGRATIONS, { ownerRole: MIGRATION_ROLE });
    logger.info('schema migrations', { ...report, login: target.login.kind });
    return report;
  } finally {
    await client.end();
  }
}
