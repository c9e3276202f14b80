import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { DistanceOptions } from '../distance';

export interface PlatformWorkerRequest {
  readonly label: string;
  /** Topology overrides, validated in the worker as `npm run local -- --config` does. */
  readonly topology: Record<string, unknown>;
  readonly replicationDelayMs: number;
  readonly distance: DistanceOptions;
}

export interface PlatformUrls {
  readonly edgeUrl: string;
  readonly controlUrl: string;
  readonly regionUrls: Readonly<Record<string, string>>;
}

export type PlatformWorkerReply = { readonly ready: PlatformUrls } | { readonly failed: string };

/** How long the engines may take to start on a loaded 2-core machine. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

/** A local platform in a child process (`platform-worker.ts`), reached over loopback HTTP. */
export class PlatformProcess {
  static async start(request: PlatformWorkerRequest): Promise<PlatformProcess> {
    const child = fork(path.join(__dirname, 'platform-worker.ts'), [], {
      // A larger young generation: fewer scavenge pauses in the figures.
      execArgv: ['--import', 'tsx', '--max-semi-space-size=32'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const urls = await new Promise<PlatformUrls>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`benchmark ${request.label}: the local platform did not start in ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.once('message', (message: PlatformWorkerReply) => {
        clearTimeout(timer);
        if ('ready' in message) resolve(message.ready);
        else reject(new Error(`benchmark ${request.label}: the local platform did not start: ${message.failed}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`benchmark ${request.label}: the local platform exited (code ${code}) while starting`));
      });
      child.send(request);
    });
    return new PlatformProcess(child, urls);
  }

  private constructor(
    private readonly child: ChildProcess,
    readonly urls: PlatformUrls,
  ) {}

  /** Stops every server and engine of the platform and waits for its process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send('stop');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
