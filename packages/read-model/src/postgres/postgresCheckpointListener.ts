import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isValidId } from '@ratsfach/domain';
import { optionsInvalid } from '../readModelErrors.js';
import { checkpointChannel } from './checkpointChannel.js';

export interface PostgresCheckpointListenerOptions {
  /** Settings of the listener's own connection (a LISTEN holds one connection for good). */
  readonly connection: pg.ClientConfig;
  /** The read models' schema (the one the projector writes). */
  readonly schema: string;
  /**
   * Told the read models' checkpoint: on every batch the projector commits (its NOTIFY), after
   * every (re)connect (what was committed while no one listened), and every `checkMs`. Called
   * only when the checkpoint moved forward, never awaited.
   */
  readonly onCheckpoint: (checkpoint: bigint) => void;
  /** A connection failed or dropped; the listener reconnects on its own. */
  readonly onError?: (error: unknown) => void;
  /** First wait before reconnecting (ms, default 100); doubles up to `maxRetryMs`. */
  readonly retryMs?: number;
  /** Longest wait before reconnecting (ms, default 5,000). */
  readonly maxRetryMs?: number;
  /**
   * How often the checkpoint is read even without a notification (ms, default 5,000): catches
   * a connection that died silently, and any notification lost on the way.
   */
  readonly checkMs?: number;
}

/**
 * Follows the read models' checkpoint from another process (scale-out live push): a dedicated
 * connection LISTENs on the channel each committed projector batch notifies. A notification is
 * only a hint: after every (re)connect the listener reads the stored checkpoint before waiting,
 * so a change committed while the connection was down (its NOTIFY lost) is reported on the
 * reconnect. It reconnects with exponential backoff until `close`.
 */
export class PostgresCheckpointListener {
  readonly #options: PostgresCheckpointListenerOptions;
  readonly #channel: string;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #client: pg.Client | null = null;
  #reported: bigint | null = null;
  #connections = 0;
  #firstConnect: { promise: Promise<void>; resolve: () => void };

  /** Starts listening (in the background; `connected()` resolves once it does). */
  constructor(options: PostgresCheckpointListenerOptions) {
    if (!isValidId(options.schema)) {
      throw optionsInvalid('schema', options.schema, 'lowercase letters, digits and _ (1 to 64)');
    }
    this.#options = options;
    this.#channel = checkpointChannel(options.schema);
    let resolve = (): void => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstConnect = { promise, resolve };
    this.#done = this.#run();
  }

  /** Resolves once the listener is connected and has reported the stored checkpoint. */
  connected(): Promise<void> {
    return this.#firstConnect.promise;
  }

  /** How many times the listener has connected (1 + reconnects). */
  get connections(): number {
    return this.#connections;
  }

  /** The server process id of the current LISTEN connection, or null while disconnected. */
  get backendPid(): number | null {
    return (this.#client as { processID?: number } | null)?.processID ?? null;
  }

  #report(value: string | null | undefined): void {
    if (value === null || value === undefined || !/^\d+$/.test(value)) return;
    const checkpoint = BigInt(value);
    if (this.#reported !== null && checkpoint <= this.#reported) return;
    this.#reported = checkpoint;
    this.#options.onCheckpoint(checkpoint);
  }

  async #run(): Promise<void> {
    const { signal } = this.#stop;
    const first = this.#options.retryMs ?? 100;
    const max = this.#options.maxRetryMs ?? 5_000;
    const checkMs = this.#options.checkMs ?? 5_000;
    const read = `SELECT position::text AS position FROM "${this.#options.schema}".rm_checkpoint WHERE id = 1`;
    let delay = first;
    while (!signal.aborted) {
      const client = new pg.Client({ query_timeout: 10_000, ...this.#options.connection });
      let fail: (error: unknown) => void = () => undefined;
      const lost = new Promise<never>((_, reject) => (fail = reject));
      lost.catch(() => undefined);
      client.on('error', (error) => fail(error));
      client.on('end', () => fail(new Error('the LISTEN connection ended')));
      client.on('notification', (message) => {
        if (message.channel === this.#channel) this.#report(message.payload);
      });
      try {
        await client.connect();
        // LISTEN first, then read: a batch committed in between is both read and notified.
        await client.query(`LISTEN "${this.#channel}"`);
        this.#client = client;
        this.#connections += 1;
        this.#report((await client.query<{ position: string | null }>(read)).rows[0]?.position);
        this.#firstConnect.resolve();
        delay = first;
        while (!signal.aborted) {
          await Promise.race([lost, sleep(checkMs, undefined, { signal, ref: false })]);
          this.#report((await client.query<{ position: string | null }>(read)).rows[0]?.position);
        }
      } catch (error) {
        if (!signal.aborted) this.#options.onError?.(error);
      } finally {
        this.#client = null;
        client.removeAllListeners('notification');
        await client.end().catch(() => undefined);
      }
      if (signal.aborted) break;
      await sleep(delay, undefined, { signal, ref: false }).catch(() => undefined);
      delay = Math.min(delay * 2, max);
    }
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#firstConnect.resolve();
    await this.#done;
  }
}
