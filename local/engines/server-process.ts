/**
 * What every local engine shares: servers spawned on a free loopback port, waited for
 * until they answer, stopped in order, and killed with their data deleted when the
 * process exits, so a server a failing test never closes does not outlive the run.
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vm from 'node:vm';

export const LOOPBACK = '127.0.0.1';
export const STARTUP_TIMEOUT_MS = 30_000;
export const STOP_TIMEOUT_MS = 15_000;
const LOG_LIMIT = 64 * 1024;
/** A port found free can be taken before the server binds it; servers that hit that retry on another. */
const PORT_ATTEMPTS = 3;
const PORT_IN_USE = /address already in use|could not bind|could not create any TCP\/IP sockets/i;

export const execFileAsync = promisify(execFile);

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
export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
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
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
export function once(fn: () => Promise<void>): () => Promise<void> {
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
export class ServerProcess {
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
export async function startOnFreePort(
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

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}
