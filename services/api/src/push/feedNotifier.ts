import { StreamKind, decodeEvent, parseStreamName } from '@ratsfach/domain';
import type { EventStore, RecordedEvent } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';

/** One open push stream as the notifier sees it. */
export interface FeedSubscriber {
  readonly tenantId: string;
  readonly userId: string;
  /** Called (synchronously, never awaited) when a feed the user may read moved. */
  notify(position: bigint): void;
}

export interface FeedNotifierOptions {
  readonly eventStore: EventStore;
  readonly readModel: ReadModelStore;
  /**
   * How often the read model's checkpoint is polled while streams are open and no projector
   * has reported its progress through `advance` (ms; default 10): the fallback when the
   * projector runs in another process. Once `advance` is called, polling stops for good.
   */
  readonly pollMs?: number;
  /** Told about a failure of one pass (it is retried on the next advance or poll). */
  readonly onError?: (error: unknown) => void;
}

interface Registration {
  readonly subscriber: FeedSubscriber;
  /** Committees whose feed the user reads; null until loaded. */
  committees: ReadonlySet<string> | null;
}

const pageSize = 1_000;

/**
 * Tells open push streams that their user's feeds moved. It follows the projector: every time
 * the read model's checkpoint advances (reported through `advance`, or found by polling), it
 * reads the events up to that checkpoint, works out which committee feeds and user feeds they
 * touched, and notifies the streams of users who read them. Only projected events count, so a
 * device told to fetch the delta finds the change there.
 */
export class FeedNotifier {
  readonly #options: FeedNotifierOptions;
  /** tenant → user → registrations. */
  readonly #byUser = new Map<string, Map<string, Set<Registration>>>();
  readonly #documentCommittee = new Map<string, string>();
  #seen: bigint | null | undefined;
  #target: bigint | null = null;
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** True once a projector reported through `advance`: polling would only repeat it. */
  #fed = false;
  #count = 0;

  constructor(options: FeedNotifierOptions) {
    this.#options = options;
  }

  /** The log position the notifier has notified up to (null before any event). */
  get position(): bigint | null {
    return this.#seen ?? null;
  }

  /** Open streams. */
  get size(): number {
    return this.#count;
  }

  /** Starts following at the read model's current checkpoint; returns it. */
  async start(): Promise<bigint | null> {
    if (this.#seen === undefined) this.#seen = await this.#options.readModel.checkpoint();
    return this.#seen;
  }

  /** Registers a stream; returns the function that unregisters it. */
  subscribe(subscriber: FeedSubscriber): () => void {
    const registration: Registration = { subscriber, committees: null };
    let users = this.#byUser.get(subscriber.tenantId);
    if (users === undefined) this.#byUser.set(subscriber.tenantId, (users = new Map()));
    let set = users.get(subscriber.userId);
    if (set === undefined) users.set(subscriber.userId, (set = new Set()));
    set.add(registration);
    this.#count++;
    void this.#loadCommittees(registration);
    this.#schedulePoll();
    return () => {
      if (!set.delete(registration)) return;
      this.#count--;
      if (set.size === 0) users.delete(subscriber.userId);
      if (users.size === 0) this.#byUser.delete(subscriber.tenantId);
    };
  }

  /**
   * The projector applied everything up to `checkpoint`: notify what it touched. The first call
   * ends polling (an embedded projector reports every pass, so a poll would find nothing new).
   */
  advance(checkpoint: bigint | null): Promise<void> {
    this.#fed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#advanceTo(checkpoint);
  }

  #advanceTo(checkpoint: bigint | null): Promise<void> {
    if (checkpoint === null) return Promise.resolve();
    if (this.#target === null || checkpoint > this.#target) this.#target = checkpoint;
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Stops polling; open streams are ended by their owner. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedulePoll(): void {
    const pollMs = this.#options.pollMs ?? 10;
    if (this.#closed || this.#fed || this.#timer !== undefined || this.#count === 0 || pollMs <= 0)
      return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#options.readModel
        .checkpoint()
        .then((checkpoint) => (this.#fed ? undefined : this.#advanceTo(checkpoint)))
        .catch((error: unknown) => this.#options.onError?.(error))
        .finally(() => this.#schedulePoll());
    }, pollMs);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    await this.start();
    while (this.#target !== null && (this.#seen === null || this.#target > this.#seen!)) {
      const target = this.#target;
      const touched = new Map<string, Set<string>>();
      let last = this.#seen ?? null;
      const events: RecordedEvent[] = [];
      for await (const recorded of this.#options.eventStore.readAll({
        ...(last === null ? {} : { after: last }),
        maxCount: pageSize,
      })) {
        if (recorded.globalPosition > target) break;
        events.push(recorded);
      }
      if (events.length === 0) {
        this.#seen = target;
        break;
      }
      for (const recorded of events) {
        await this.#touch(recorded, touched);
        last = recorded.globalPosition;
      }
      this.#seen = last;
      await this.#notify(touched, last as bigint);
    }
  }

  /** Adds the feeds an event moves: `c:<committee>` and `u:<user>` keys per tenant. */
  async #touch(recorded: RecordedEvent, touched: Map<string, Set<string>>): Promise<void> {
    let name;
    try {
      name = parseStreamName(recorded.stream);
    } catch {
      return;
    }
    if (!this.#byUser.has(name.tenant)) return;
    let keys = touched.get(name.tenant);
    if (keys === undefined) touched.set(name.tenant, (keys = new Set()));
    switch (name.kind) {
      case StreamKind.user:
        keys.add(`u:${name.id}`);
        return;
      case StreamKind.committee: {
        keys.add(`c:${name.id}`);
        // A membership record also moves the member's own feed (a join, a leave, a role).
        const userId = userIdOf(recorded);
        if (userId !== null) keys.add(`u:${userId}`);
        return;
      }
      case StreamKind.document: {
        const committeeId = await this.#committeeOf(name.tenant, name.id);
        if (committeeId !== null) keys.add(`c:${committeeId}`);
        return;
      }
      default:
        return;
    }
  }

  async #committeeOf(tenantId: string, documentId: string): Promise<string | null> {
    const key = `${tenantId}/${documentId}`;
    const cached = this.#documentCommittee.get(key);
    if (cached !== undefined) return cached;
    const document = await this.#options.readModel.document(tenantId, documentId);
    if (document === null) return null;
    if (this.#documentCommittee.size >= 100_000) this.#documentCommittee.clear();
    this.#documentCommittee.set(key, document.committeeId);
    return document.committeeId;
  }

  async #notify(touched: Map<string, Set<string>>, position: bigint): Promise<void> {
    for (const [tenantId, keys] of touched) {
      const users = this.#byUser.get(tenantId);
      if (users === undefined) continue;
      for (const [userId, registrations] of users) {
        const ownFeed = keys.has(`u:${userId}`);
        for (const registration of registrations) {
          // The user's committees change only with their own feed: reload them then.
          if (ownFeed) await this.#loadCommittees(registration);
          const reads =
            ownFeed ||
            registration.committees === null ||
            [...registration.committees].some((c) => keys.has(`c:${c}`));
          if (reads) registration.subscriber.notify(position);
        }
      }
    }
  }

  async #loadCommittees(registration: Registration): Promise<void> {
    const { tenantId, userId } = registration.subscriber;
    try {
      const committees = await this.#options.readModel.manifestCommittees(tenantId, userId);
      registration.committees = new Set(committees.map((c) => c.committeeId));
    } catch (error) {
      // Unknown committees notify on every change of the tenant until the next load.
      registration.committees = null;
      this.#options.onError?.(error);
    }
  }
}

/** The member a membership event is about. */
function userIdOf(recorded: RecordedEvent): string | null {
  // Stored types carry their version (`MembershipChanged.v1`): compare the decoded type.
  if (!/^Membership(Changed|CoSigned)\./.test(recorded.type)) return null;
  const event = decodeEvent(recorded);
  if (event.type !== 'MembershipChanged' && event.type !== 'MembershipCoSigned') return null;
  return event.data.userId;
}
