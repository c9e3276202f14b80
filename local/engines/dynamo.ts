import type * as http from 'node:http';
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
  const connections = closeConnectionsWhenIdle(server);
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    close: once(() =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeIdleConnections();
          // A request already taken keeps its socket until it is answered: dynalite would
          // otherwise go on reading its closed database after the close and throw outside
          // any request ("Database is closed").
          connections.closeWhenIdle();
        }),
        STOP_TIMEOUT_MS,
        'dynalite close',
      ),
    ),
  };
}

/**
 * Closes the server's connections once no request is being answered: at once if none is,
 * else the moment the last one is (checked synchronously, so no request slips in between).
 */
function closeConnectionsWhenIdle(server: http.Server): { closeWhenIdle(): void } {
  let active = 0;
  let closing = false;
  const closeIfIdle = () => {
    if (closing && active === 0) server.closeAllConnections();
  };
  server.on('request', (_request, response: http.ServerResponse) => {
    active += 1;
    response.once('close', () => {
      active -= 1;
      closeIfIdle();
    });
  });
  return {
    closeWhenIdle: () => {
      closing = true;
      closeIfIdle();
    },
  };
}
