import type { RecordedEvent } from '../eventStore.js';
import {
  PagedSubscription,
  type LogPage,
  type PagedLogSource,
} from '../shared/pagedSubscription.js';

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
 * A subscription to the whole log through the shared PagedSubscription: the log is read in pages
 * by global position, and once caught up a watch is started from the last position read; the
 * subscription sleeps until the watch sees something after it.
 */
export class KurrentSubscription<Entry> extends PagedSubscription<number> {
  constructor(source: KurrentSubscriptionSource<Entry>) {
    super(new KurrentLogFollower(source), {
      after: source.after,
      pageSize: source.pageSize,
      signal: source.signal,
    });
  }
}

/** Pages and the watch of a KurrentSubscriptionSource, as the shared subscription wants them. */
class KurrentLogFollower<Entry> implements PagedLogSource<number> {
  readonly #source: KurrentSubscriptionSource<Entry>;
  #wakes = 0;
  #closed = false;
  #failure: Error | undefined;
  #waiter: (() => void) | undefined;
  #stopWatch: (() => Promise<void>) | undefined;

  constructor(source: KurrentSubscriptionSource<Entry>) {
    this.#source = source;
  }

  mark(): number {
    return this.#wakes;
  }

  async readPage(after: bigint | undefined, limit: number): Promise<LogPage> {
    const page = await this.#source.readPage(after, limit);
    const events = page.records.map((entry) => this.#source.toRecorded(entry));
    return { events, next: page.last, caughtUp: events.length === 0 && page.exhausted };
  }

  /** Caught up: start the watch once (from `after`), then wait for it to see an event. */
  async waitForMore(mark: number, after: bigint | undefined, signal: AbortSignal): Promise<void> {
    if (this.#stopWatch === undefined && !this.#closed) {
      this.#stopWatch = this.#source.watch(
        after,
        () => this.#wake(),
        (error) => {
          this.#failure = error;
          this.#wake();
        },
      );
    }
    if (this.#wakes === mark && this.#failure === undefined && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.#failure !== undefined && !signal.aborted) throw this.#failure;
  }

  #wake(): void {
    this.#wakes += 1;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#source.onClose();
    this.#wake();
    const stop = this.#stopWatch;
    this.#stopWatch = undefined;
    await stop?.();
  }
}
