import type { RecordedEvent, Subscription } from '../eventStore.js';

/** One page of the log as a backend read it for a subscription. */
export interface LogPage {
  /** Events after the requested position, in global order. */
  readonly events: readonly RecordedEvent[];
  /**
   * Where the next page starts (exclusive). Usually the last event's position; further on when
   * the backend passed over entries it does not hand out (KurrentDB's system events); the
   * requested position when nothing was read.
   */
  readonly next: bigint | undefined;
  /**
   * True when the page reached the end of what is visible now: the subscription waits for a
   * commit before it reads again. False reads the next page at once.
   */
  readonly caughtUp: boolean;
}

/**
 * What a backend gives the shared subscription: pages of its log and a way to wait for commits.
 * `mark` is taken before each page is read and handed to `waitForMore`, so a commit that lands
 * between the read and the wait is never slept through (a generation counter, say).
 */
export interface PagedLogSource<Mark> {
  mark(): Mark | Promise<Mark>;
  readPage(after: bigint | undefined, limit: number): LogPage | Promise<LogPage>;
  /**
   * Resolves once something may have been committed after `after` since `mark` was taken (at
   * once if that already happened), after the backend's polling interval, or when `signal`
   * aborts. Rejects with a typed error when following the log failed.
   */
  waitForMore(mark: Mark, after: bigint | undefined, signal: AbortSignal): Promise<void>;
  /** Called once when the subscription closes (the store forgets it, a watch stops). */
  close?(): void | Promise<void>;
}

export interface PagedSubscriptionOptions {
  /** Exclusive checkpoint; undefined for the start of the log. */
  readonly after?: bigint | undefined;
  /** Most events read ahead of the consumer. */
  readonly pageSize: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The one subscription loop every backend uses: catch up page by page from the checkpoint, and
 * once a page reaches the end, wait for a commit and read on from the last position. Positions
 * carry it from catch-up to live, so nothing is missed or repeated across the switch. It reads
 * the next page only after the consumer took the last event of the previous one, so at most one
 * page waits in memory however slow the consumer is.
 */
export class PagedSubscription<Mark> implements Subscription {
  readonly #source: PagedLogSource<Mark>;
  readonly #pageSize: number;
  readonly #after: bigint | undefined;
  readonly #closer = new AbortController();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };
  #page: readonly RecordedEvent[] = [];
  #index = 0;
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(source: PagedLogSource<Mark>, options: PagedSubscriptionOptions) {
    this.#source = source;
    this.#pageSize = Math.max(1, Math.floor(options.pageSize));
    this.#after = options.after;
    this.#signal = options.signal;
    if (options.signal?.aborted === true) {
      // Closed from the start; the source hears of it once the constructor has returned (the
      // store that creates this may name it in its close hook).
      this.#closer.abort();
      queueMicrotask(() => void this.close());
    } else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Events read from the store and not yet handed to the consumer: at most one page. */
  bufferedCount(): number {
    return this.#page.length - this.#index;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#started) throw new TypeError('a subscription can be iterated only once');
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<RecordedEvent> {
    const closed = this.#closer.signal;
    let after = this.#after;
    try {
      while (!closed.aborted) {
        const mark = await this.#source.mark();
        if (closed.aborted) return;
        const page = await this.#source.readPage(after, this.#pageSize);
        if (closed.aborted) return;
        this.#page = page.events;
        this.#index = 0;
        while (this.#index < this.#page.length) {
          const event = this.#page[this.#index] as RecordedEvent;
          this.#index += 1;
          yield event;
          if (closed.aborted) return;
        }
        this.#page = [];
        this.#index = 0;
        after = page.next;
        if (page.caughtUp) await this.#source.waitForMore(mark, after, closed);
      }
    } finally {
      // A consumer that breaks out or throws ends the subscription: the store must forget it.
      await this.close();
    }
  }

  /** Stops the subscription: a pending `next()` ends, the buffer is dropped, the source closes. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closer.abort();
      this.#page = [];
      this.#index = 0;
      this.#signal?.removeEventListener('abort', this.#onAbort);
      await this.#source.close?.();
    })();
    return this.#closing;
  }
}

/**
 * Commit generations for backends that learn of commits by a callback (SQLite, memory): a
 * subscription marks the generation before it reads and waits until it moves on, or until the
 * polling interval passes (commits of other processes announce themselves no other way).
 */
export class CommitSignal {
  readonly #pollIntervalMs: number;
  readonly #listeners = new Set<() => void>();
  #generation = 0;

  /** `pollIntervalMs`: longest wait; Infinity when every commit is announced through `notify`. */
  constructor(pollIntervalMs: number) {
    this.#pollIntervalMs = pollIntervalMs;
  }

  get generation(): number {
    return this.#generation;
  }

  /** A commit happened (or the store closed): wakes every waiter. */
  notify(): void {
    this.#generation += 1;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }

  /** Resolves when the generation is past `mark`, after the polling interval, or on abort. */
  wait(mark: number, signal?: AbortSignal): Promise<void> {
    if (this.#generation !== mark || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.#listeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(this.#pollIntervalMs)
        ? setTimeout(done, this.#pollIntervalMs)
        : undefined;
      this.#listeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
