import type { RecordedEvent, Subscription } from '../eventStore.js';

/** What a subscription needs from its store: pages of the log, a watch, and a close hook. */
export interface KurrentSubscriptionSource<Entry> {
  /** Exclusive start position (the subscriber's checkpoint); undefined for the start. */
  readonly after: bigint | undefined;
  /** Most events fetched ahead of the consumer. */
  readonly pageSize: number;
  readonly signal: AbortSignal | undefined;
  /** Up to `count` entries after `after`, the position the page read to, and whether it hit the end. */
  readPage(
    after: bigint | undefined,
    count: number,
  ): Promise<{
    readonly records: readonly Entry[];
    readonly last: bigint | undefined;
    readonly exhausted: boolean;
  }>;
  toRecorded(entry: Entry): RecordedEvent;
  /**
   * Starts watching the log after `after`: calls `wake` whenever something new may be there,
   * `fail` when the watch breaks. Returns a function that stops it.
   */
  watch(
    after: bigint | undefined,
    wake: () => void,
    fail: (error: Error) => void,
  ): () => Promise<void>;
  /** Called once when the subscription closes. */
  onClose(): void;
}

/**
 * A subscription to the whole log. It reads the log in pages by global position and fetches the
 * next page only when the consumer has taken the last one, so at most one page waits in memory
 * (back-pressure). Once caught up it starts a watch from the last position it read and sleeps
 * until the watch sees something after it: positions carry it from catch-up to live, so nothing
 * is missed or repeated across the switch.
 */
export class KurrentSubscription<Entry> implements Subscription {
  readonly #source: KurrentSubscriptionSource<Entry>;
  #page: RecordedEvent[] = [];
  #closed = false;
  #started = false;
  #pendingWake = false;
  #failure: Error | undefined;
  #waiter: (() => void) | undefined;
  #stopWatch: (() => Promise<void>) | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };

  constructor(source: KurrentSubscriptionSource<Entry>) {
    this.#source = source;
    if (source.signal?.aborted === true) this.#closed = true;
    else source.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  bufferedCount(): number {
    return this.#page.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#started) throw new RangeError('a subscription can be iterated once');
    this.#started = true;
    return this.#events();
  }

  async *#events(): AsyncGenerator<RecordedEvent> {
    let after = this.#source.after;
    try {
      while (!this.#closed) {
        const next = this.#page.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        const page = await this.#source.readPage(after, this.#source.pageSize);
        if (this.#closed) return;
        after = page.last;
        this.#page = page.records.map((entry) => this.#source.toRecorded(entry));
        if (this.#page.length > 0 || !page.exhausted) continue;
        await this.#sleepUntilWoken(after);
      }
    } finally {
      await this.close();
    }
  }

  /** Caught up: start the watch once, then wait for it to see an event, or for close. */
  async #sleepUntilWoken(after: bigint | undefined): Promise<void> {
    if (this.#stopWatch === undefined) {
      this.#stopWatch = this.#source.watch(
        after,
        () => this.#wake(),
        (error) => {
          this.#failure = error;
          this.#wake();
        },
      );
    }
    if (!this.#pendingWake && this.#failure === undefined && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    this.#pendingWake = false;
    if (this.#failure !== undefined && !this.#closed) throw this.#failure;
  }

  #wake(): void {
    this.#pendingWake = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async close(): Promise<void> {
    const first = !this.#closed;
    this.#closed = true;
    this.#page = [];
    if (first) {
      this.#source.signal?.removeEventListener('abort', this.#onAbort);
      this.#source.onClose();
    }
    this.#wake();
    const stop = this.#stopWatch;
    this.#stopWatch = undefined;
    await stop?.();
  }
}
