/**
 * A TCP proxy on 127.0.0.1 in front of the test PostgreSQL, so a test can make the database
 * vanish (every connection cut, new ones refused) and come back, without stopping the server
 * that other test files share.
 */
import net from 'node:net';
import { once } from 'node:events';

export class PostgresProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | null = null;
  #port = 0;

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port || 5432) };
  }

  get port(): number {
    return this.#port;
  }

  /** The target URL with host and port replaced by the proxy's. */
  urlFor(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  /** Starts listening (on a free port the first time, on the same port again after `stop`). */
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
      client.pipe(upstream).pipe(client);
    });
    server.listen(this.#port, '127.0.0.1');
    await once(server, 'listening');
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Cuts every connection and refuses new ones, as a database that is gone. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== null) await new Promise((resolve) => server.close(resolve));
  }
}
