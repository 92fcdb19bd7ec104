import { EventEmitter } from 'node:events';
import {
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendResult,
  type AppendStreamState,
  type EventData,
  type KurrentDBClient,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@kurrent/kurrentdb-client';

/** One stored record, in the shape the official client hands out. */
interface StoredRecord {
  streamId: string;
  id: string;
  isJson: false;
  revision: bigint;
  type: string;
  created: Date;
  data: Uint8Array;
  metadata: Uint8Array | undefined;
  position: Position;
}

/**
 * An in-memory imitation of a KurrentDB server behind the official client's interface, for the
 * adapter's own tests: it reproduces what the adapter relies on (expected-revision checks with
 * WrongExpectedVersionError, the server's idempotent acceptance of the same event ids at the same
 * expected revision, StreamNotFoundError on absent streams, inclusive $all reads from a position,
 * one log position per event, catch-up subscriptions that turn live). It is not KurrentDB: the
 * real server is exercised only by the contract suite when KURRENTDB_URL is set.
 */
export class FakeKurrentServer {
  readonly log: StoredRecord[] = [];
  readonly streams = new Map<string, StoredRecord[]>();
  readonly #live = new EventEmitter();
  #next = 1000n;
  /** Calls to appendToStream, by stream id, for assertions. */
  readonly appends: string[] = [];

  constructor() {
    this.#live.setMaxListeners(0);
    // A fresh KurrentDB log starts with its own events; readers must skip them.
    this.#store('$settings', '$settings', new Uint8Array([1]), undefined);
  }

  /** A client on this server; several clients stand for several processes. */
  client(): KurrentDBClient {
    return new FakeKurrentClient(this) as unknown as KurrentDBClient;
  }

  /** Changes a stored record in place, as a disk or an operator could. */
  tamper(streamId: string, revision: bigint, change: (record: StoredRecord) => void): void {
    const record = this.streams.get(streamId)?.[Number(revision)];
    if (record === undefined) throw new Error(`no ${streamId}@${revision}`);
    change(record);
  }

  append(streamId: string, events: EventData[], state: AppendStreamState): AppendResult {
    this.appends.push(streamId);
    const stored = this.streams.get(streamId) ?? [];
    const before = stored.length;
    const current = before === 0 ? 'no_stream' : BigInt(before - 1);
    const expectedLast = state === 'no_stream' ? -1n : typeof state === 'bigint' ? state : null;
    if (expectedLast !== null && stored.length > Number(expectedLast) + 1) {
      // KurrentDB accepts a write again when the same ids already follow the expected revision.
      const after = stored.slice(
        Number(expectedLast) + 1,
        Number(expectedLast) + 1 + events.length,
      );
      if (after.length === events.length && after.every((r, i) => r.id === events[i]?.id)) {
        const last = after[after.length - 1] as StoredRecord;
        return { success: true, nextExpectedRevision: last.revision, position: last.position };
      }
    }
    const ok =
      state === 'any' ||
      (state === 'stream_exists' && current !== 'no_stream') ||
      (state === 'no_stream' && current === 'no_stream') ||
      (typeof state === 'bigint' && current === state);
    if (!ok) {
      throw new WrongExpectedVersionError(undefined, {
        streamName: streamId,
        expected: state,
        current,
      });
    }
    let last: StoredRecord | undefined;
    for (const event of events) {
      last = this.#store(
        streamId,
        event.type,
        event.data as Uint8Array,
        event.metadata instanceof Uint8Array ? event.metadata : undefined,
        event.id,
      );
    }
    const first = this.streams.get(streamId)?.[before] as StoredRecord;
    const lastRecord = last as StoredRecord;
    return {
      success: true,
      nextExpectedRevision: lastRecord.revision,
      // As the server reports it for a transaction: where it began and where it committed.
      position: { commit: lastRecord.position.commit, prepare: first.position.prepare },
    };
  }

  #store(
    streamId: string,
    type: string,
    data: Uint8Array,
    metadata: Uint8Array | undefined,
    id = '00000000-0000-4000-8000-000000000000',
  ): StoredRecord {
    const stored = this.streams.get(streamId) ?? [];
    const position = this.#next;
    this.#next += 100n;
    const record: StoredRecord = {
      streamId,
      id,
      isJson: false,
      revision: BigInt(stored.length),
      type,
      created: new Date(0),
      data: Uint8Array.from(data),
      metadata: metadata === undefined ? undefined : Uint8Array.from(metadata),
      position: { commit: position, prepare: position },
    };
    stored.push(record);
    this.streams.set(streamId, stored);
    this.log.push(record);
    this.#live.emit('record', record);
    return record;
  }

  onRecord(listener: (record: StoredRecord) => void): () => void {
    this.#live.on('record', listener);
    return () => this.#live.off('record', listener);
  }
}

const copy = (record: StoredRecord) => ({
  ...record,
  data: Buffer.from(record.data),
  metadata: record.metadata === undefined ? undefined : Buffer.from(record.metadata),
});

class FakeKurrentClient {
  readonly #server: FakeKurrentServer;
  #disposed = false;

  constructor(server: FakeKurrentServer) {
    this.#server = server;
  }

  #check(): void {
    if (this.#disposed) throw new Error('client disposed');
  }

  async appendToStream(
    streamId: string,
    events: EventData | EventData[],
    options: { streamState?: AppendStreamState } = {},
  ): Promise<AppendResult> {
    this.#check();
    await Promise.resolve();
    return this.#server.append(
      streamId,
      Array.isArray(events) ? events : [events],
      options.streamState ?? 'any',
    );
  }

  readStream(
    streamId: string,
    options: {
      direction?: 'forwards' | 'backwards';
      fromRevision?: ReadRevision;
      maxCount?: number | bigint;
    } = {},
  ) {
    const server = this.#server;
    const check = () => this.#check();
    return (async function* () {
      check();
      await Promise.resolve();
      const stored = server.streams.get(streamId);
      if (stored === undefined) throw new StreamNotFoundError(undefined, streamId);
      const direction = options.direction ?? 'forwards';
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const from = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
      let records: StoredRecord[];
      if (direction === 'forwards') {
        const start = from === 'start' ? 0 : from === 'end' ? stored.length : Number(from);
        records = stored.slice(start, start + max);
      } else {
        const start = from === 'end' ? stored.length - 1 : from === 'start' ? 0 : Number(from);
        records = stored.slice(Math.max(0, start - max + 1), start + 1).reverse();
      }
      for (const record of records) yield { event: copy(record) };
    })();
  }

  readAll(options: { fromPosition?: ReadPosition; maxCount?: number | bigint } = {}) {
    const server = this.#server;
    const check = () => this.#check();
    return (async function* () {
      check();
      await Promise.resolve();
      const from = options.fromPosition ?? 'start';
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const start =
        from === 'start'
          ? 0
          : from === 'end'
            ? server.log.length
            : server.log.findIndex((r) => r.position.commit >= from.commit);
      const records = start < 0 ? [] : server.log.slice(start, start + max);
      for (const record of records)
        yield { event: copy(record), commitPosition: record.position.commit };
    })();
  }

  subscribeToAll(
    options: { fromPosition?: ReadPosition; filter?: { prefixes?: string[]; regex?: string } } = {},
  ) {
    this.#check();
    const emitter = new EventEmitter() as EventEmitter & {
      unsubscribe(): Promise<void>;
      destroy(): void;
    };
    const from = options.fromPosition ?? 'start';
    const matches = (record: StoredRecord): boolean => {
      const filter = options.filter;
      if (filter?.prefixes !== undefined)
        return filter.prefixes.some((p) => record.streamId.startsWith(p));
      if (filter?.regex !== undefined) return new RegExp(filter.regex).test(record.streamId);
      return true;
    };
    const after = (record: StoredRecord): boolean =>
      from === 'start' || (from !== 'end' && record.position.commit > from.commit);
    let stop = (): void => undefined;
    setImmediate(() => {
      for (const record of this.#server.log) {
        if (after(record) && matches(record)) emitter.emit('data', { event: copy(record) });
      }
      stop = this.#server.onRecord((record) => {
        if (matches(record)) emitter.emit('data', { event: copy(record) });
      });
    });
    emitter.unsubscribe = async () => stop();
    emitter.destroy = () => stop();
    return emitter;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
  }
}
