import { Worker } from 'node:worker_threads';
import { validateAppend, type ValidatedAppend } from '../../shared/appendValidation.js';
import { StoreUnavailableError } from '../../errors.js';
import {
  defaultLimits,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventStoreLimits,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamHead,
  type SubscribeOptions,
  type Subscription,
  type VerifyReport,
} from '../../eventStore.js';
import type { ExpectedRevision } from '../../expectedRevision.js';
import {
  SqliteEventStore,
  type SqliteEventStoreOptions,
  type SqliteStoreHealth,
} from '../sqliteEventStore.js';
import { deserializeError, type WriterReply, type WriterRequest } from './sqliteWorkerProtocol.js';

// From source (tests, scripts) the worker is the .ts file beside this one; built, the .js.
const workerUrl = new URL(
  import.meta.url.endsWith('.ts') ? './sqliteWriterWorker.ts' : './sqliteWriterWorker.js',
  import.meta.url,
);

/**
 * Opens the SQLite event store with its writes on a worker thread: the writer thread owns the
 * write connection and runs group commit there, so the fsync of each commit never stalls the
 * caller's event loop; reads and subscriptions use a connection of the caller's thread (WAL lets
 * them read while the writer commits). Same file format and guarantees as `openSqliteEventStore`.
 */
export async function openSqliteEventStoreInWorker(
  options: SqliteEventStoreOptions,
): Promise<SqliteWorkerEventStore> {
  const worker = new Worker(workerUrl, { workerData: { ...options } });
  const ready = await new Promise<WriterReply>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) =>
      resolve({ kind: 'failed', error: { code: null, message: error.message, details: {} } }),
    );
  });
  if (ready.kind !== 'ready') {
    await worker.terminate();
    throw ready.kind === 'failed'
      ? deserializeError(ready.error)
      : new StoreUnavailableError('SQLite writer thread did not start');
  }
  let reader: SqliteEventStore;
  try {
    // The writer thread has just checked the file at open; the reader need not do it again.
    reader = new SqliteEventStore({ ...options, checkAtOpen: false });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return new SqliteWorkerEventStore(worker, reader, options);
}

/** See `openSqliteEventStoreInWorker`. */
export class SqliteWorkerEventStore implements EventStore {
  readonly #worker: Worker;
  readonly #reader: SqliteEventStore;
  readonly #limits: EventStoreLimits;
  readonly #pending = new Map<
    number,
    { resolve: (r: AppendResult) => void; reject: (e: unknown) => void }
  >();
  #nextId = 0;
  #closed = false;
  #writerGone: StoreUnavailableError | null = null;
  #exitCode: number | null = null;
  #onClosed: (() => void) | null = null;

  constructor(worker: Worker, reader: SqliteEventStore, options: SqliteEventStoreOptions) {
    this.#worker = worker;
    this.#reader = reader;
    this.#limits = options.limits ?? defaultLimits;
    worker.on('message', (reply: WriterReply) => this.#receive(reply));
    const gone = (why: string) => {
      this.#writerGone ??= new StoreUnavailableError(`SQLite writer thread ${why}`, {
        details: { reason: 'writer_gone' },
      });
      for (const entry of this.#pending.values()) entry.reject(this.#writerGone);
      this.#pending.clear();
      this.#onClosed?.();
    };
    worker.on('error', (error) => gone(`failed: ${error.message}`));
    worker.on('exit', (code) => {
      this.#exitCode = code;
      gone(`exited (${code})`);
    });
  }

  #receive(reply: WriterReply): void {
    if (reply.kind === 'closed') {
      this.#onClosed?.();
      return;
    }
    if (reply.kind !== 'appended' && reply.kind !== 'refused') return;
    const entry = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    if (reply.kind === 'appended') {
      entry?.resolve(reply.result);
      this.#reader.notifyExternalCommit();
    } else {
      const error = deserializeError(reply.error);
      // Damage the writer found stops the reads too (and every later append, here).
      this.#reader.noteDamage(error);
      entry?.reject(error);
    }
  }

  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (this.#closed)
      return Promise.reject(
        new StoreUnavailableError('SQLite event store is closed', {
          details: { reason: 'closed' },
        }),
      );
    if (this.#writerGone !== null) return Promise.reject(this.#writerGone);
    const health = this.#reader.health();
    if (!health.healthy) {
      // Damage a read or verify found: the writer must not append on a damaged file either.
      return this.#reader.append(stream, events, expected, options);
    }
    let append: ValidatedAppend;
    try {
      // Refuse bad input here, with the caller's own error classes, before anything crosses
      // threads; the writer takes the validated append and its event ids as they are.
      append = validateAppend(stream, events, expected, options, this.#limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      const request: WriterRequest = { kind: 'append', id, append };
      this.#worker.postMessage(request);
    });
  }

  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return this.#reader.readStream(stream, options);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return this.#reader.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): Subscription {
    return this.#reader.subscribeToAll(options);
  }

  streamHead(stream: string): Promise<StreamHead | null> {
    return this.#reader.streamHead(stream);
  }

  verify(options?: { readonly stream?: string }): Promise<VerifyReport> {
    return this.#reader.verify(options);
  }

  /**
   * Whether the store serves and appends now. `writer: 'dead'` when the writer thread has
   * exited or failed (every append then fails with StoreUnavailableError, details
   * `reason: 'writer_gone'`); the API's /healthz turns unhealthy on `healthy: false`.
   */
  health(): SqliteStoreHealth & { readonly exitCode?: number } {
    if (this.#closed) return this.#reader.health();
    if (this.#writerGone !== null) {
      return {
        healthy: false,
        writer: 'dead',
        code: this.#writerGone.code,
        message: this.#writerGone.message,
        ...(this.#exitCode === null ? {} : { exitCode: this.#exitCode }),
      };
    }
    return this.#reader.health();
  }

  /** Lets the writer commit what it holds, stops it, then closes the reading connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#writerGone === null) {
      await new Promise<void>((resolve) => {
        this.#onClosed = resolve;
        const request: WriterRequest = { kind: 'close' };
        this.#worker.postMessage(request);
      });
      await this.#worker.terminate();
    }
    await this.#reader.close();
  }
}
