import { type ApplyOptions, applyMigrations, type Migration, type MigrationReport, type SqlSession } from './ledger';

/** A session to one database instance, closed when done with. */
export interface InstanceSession extends SqlSession {
  end(): Promise<void>;
}

export interface WriterReport extends MigrationReport {
  /** The instance the report is from: the writer, or the last replica asked. */
  readonly host: string;
}

/**
 * Applies the migrations on whichever of the cluster's instances is the writer. A global
 * database's secondary cluster has no working writer endpoint (only its instances answer),
 * and after a failover the writer may be any instance, so each instance is asked in turn
 * (`applyMigrations` writes nothing on a replica). When every instance answers as a replica,
 * that is the result; an instance that cannot be reached fails the run, naming it, unless
 * another instance is the writer — the unreachable one could have been the writer.
 */
export async function migrateWriter(
  hosts: readonly string[],
  open: (host: string) => Promise<InstanceSession>,
  migrations: readonly Migration[],
  options: ApplyOptions = {},
): Promise<WriterReport> {
  if (hosts.length === 0) throw new Error('no database instance to migrate');
  const unreachable: string[] = [];
  let replica: WriterReport | undefined;
  for (const host of hosts) {
    let session: InstanceSession;
    try {
      session = await open(host);
    } catch (error) {
      unreachable.push(`${host} (${(error as Error).message})`);
      continue;
    }
    try {
      const report = await applyMigrations(session, migrations, options);
      if (report.role === 'writer') return { ...report, host };
      replica = { ...report, host };
    } finally {
      await session.end().catch(() => undefined);
    }
  }
  if (unreachable.length > 0) {
    throw new Error(`no instance answered as the writer; could not reach ${unreachable.join(', ')}`);
  }
  if (!replica) throw new Error('no database instance to migrate');
  return replica;
}
