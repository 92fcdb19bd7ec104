import type pg from 'pg';

/**
 * One LISTEN connection per store, shared by all its subscriptions. It only wakes waiters; the
 * rows are always read by query, so a lost notification costs at most one polling interval and
 * a broken LISTEN connection is simply reopened on the next wait.
 */
export class PostgresNotifier {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  #client: pg.PoolClient | null = null;
  #drop: (() => void) | null = null;
  #connecting: Promise<void> | null = null;
  #lastFailure = 0;
  #closed = false;
  /** Bumped on every notification; a waiter compares it with the value it saw before reading. */
  #generation = 0;
  readonly #waiters = new Set<() => void>();

  /** Holds one connection of `pool` while listening; the pool needs room for it. */
  constructor(pool: pg.Pool, channel: string) {
    this.#pool = pool;
    this.#channel = channel;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Starts listening if not yet (best effort: polling covers any failure). */
  ensureListening(): Promise<void> {
    if (this.#closed || this.#client !== null) return Promise.resolve();
    if (this.#connecting !== null) return this.#connecting;
    if (Date.now() - this.#lastFailure < 1000) return Promise.resolve();
    this.#connecting = this.#connect().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch {
      this.#lastFailure = Date.now();
      return;
    }
    let dropped = false;
    const drop = (error?: unknown): void => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = null;
      this.#lastFailure = Date.now();
      client.removeListener('notification', onNotification);
      // Destroys the connection: it may hold a LISTEN or be broken, so never reuse it.
      client.release(error instanceof Error ? error : true);
      this.#wakeAll();
    };
    const onNotification = (): void => {
      this.#generation += 1;
      this.#wakeAll();
    };
    client.on('error', drop);
    client.on('notification', onNotification);
    try {
      await client.query(`LISTEN "${this.#channel}"`);
    } catch (error) {
      drop(error);
      return;
    }
    if (this.#closed) {
      drop();
      return;
    }
    this.#client = client;
    this.#drop = drop;
  }

  /**
   * Resolves on the next notification after `seenGeneration`, after `timeoutMs`, or when
   * `signal` aborts, whichever comes first.
   */
  wait(seenGeneration: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#generation !== seenGeneration || this.#closed || signal?.aborted === true) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll();
    await this.#connecting;
    this.#drop?.();
    this.#drop = null;
  }
}
