import * as net from 'node:net';
import * as path from 'node:path';
import { isExecutable, LOOPBACK, once, ServerProcess, startOnFreePort, tempDir } from './server-process';

export interface ValkeyEngine {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

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
