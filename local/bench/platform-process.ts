import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { DistanceOptions } from '../distance';

export interface PlatformWorkerRequest {
  readonly label: string;
  /** Topology overrides, validated in the worker as `npm run local -- --config` does. */
  readonly topology: Record<string, unknown>;
  readonly replicationDelayMs: number;
  /** @default the one-way distance between the two regions */
  readonly replicaLagMs?: number;
  readonly distance: DistanceOptions;
}

export interface PlatformUrls {
  readonly edgeUrl: string;
  readonly controlUrl: string;
  readonly regionUrls: Readonly<Record<string, string>>;
  /** The proof of origin a direct call to a region's API must carry, as CloudFront's requests do. */
  readonly originHeaders: Readonly<Record<string, string>>;
}

export type PlatformWorkerReply = { readonly ready: PlatformUrls } | { readonly failed: string };

/** How long the engines may take to start on a loaded 2-core machine. */
const START_TIMEOUT_MS = 120_000;
/** How long the worker may take to stop its engines before it is made to. */
const STOP_GRACE_MS = 30_000;

/** A local platform in a child process (`platform-worker.ts`), reached over loopback HTTP. */
export class PlatformProcess {
  static async start(request: PlatformWorkerRequest): Promise<PlatformProcess> {
    const child = fork(path.join(__dirname, 'platform-worker.ts'), [], {
      // A larger young generation: fewer scavenge pauses in the figures.
      execArgv: ['--import', 'tsx', '--max-semi-space-size=32'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const platform = new PlatformProcess(child);
    const urls = await new Promise<PlatformUrls>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`benchmark ${request.label}: the local platform did not start in ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.once('message', (message: PlatformWorkerReply) => {
        clearTimeout(timer);
        if ('ready' in message) resolve(message.ready);
        else reject(new Error(`benchmark ${request.label}: the local platform did not start: ${message.failed}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`benchmark ${request.label}: the local platform exited (${signal ?? code}) while starting`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`benchmark ${request.label}: the local platform process failed: ${error.message}`));
      });
      child.send(request);
    }).catch(async (error: unknown) => {
      await platform.stop();
      throw error;
    });
    platform.urls = urls;
    return platform;
  }

  urls: PlatformUrls = { edgeUrl: '', controlUrl: '', regionUrls: {}, originHeaders: {} };

  private constructor(private readonly child: ChildProcess) {
    // An IPC error (the worker gone) must not crash the benchmark; stop() copes with it.
    child.on('error', () => undefined);
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Stops every server and engine of the platform and waits for its process to end: asks
   * it (or, without a channel, signals it) to stop cleanly, and only after a grace period
   * kills it, which would leave its engines' temporary data behind.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.send('stop');
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
