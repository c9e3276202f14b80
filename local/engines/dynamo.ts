import type * as net from 'node:net';
import dynalite from 'dynalite';
import { LOOPBACK, once, STARTUP_TIMEOUT_MS, STOP_TIMEOUT_MS, withTimeout } from './server-process';

export interface DynamoEngine {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  close(): Promise<void>;
}

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
