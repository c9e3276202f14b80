import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * The network path from a secondary region to its jurisdiction's PostgreSQL server, which
 * runs in the primary region (standing in for the secondary's Aurora replica). While the
 * primary region is down the path is cut: open connections are dropped and new ones closed
 * at once, so the secondary's strong store is unreachable, as a lost region's would be.
 */
export class StrongStoreLink {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private cut = false;
  port = 0;

  constructor(target: { readonly host: string; readonly port: number }) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: target.host, port: target.port });
      for (const [socket, other] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.open.add(socket);
        socket.on('error', () => other.destroy());
        socket.on('close', () => {
          this.open.delete(socket);
          other.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  get host(): string {
    return '127.0.0.1';
  }

  /** Cuts the path (dropping every open connection) or restores it. */
  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const socket of this.open) socket.destroy();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the strong-store link has no port');
    this.port = address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
