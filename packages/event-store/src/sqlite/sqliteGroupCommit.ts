import type Database from 'better-sqlite3';
import { isRatsfachError } from '@ratsfach/kernel';
import { ConcurrencyError } from '../errors.js';
import type { AppendResult, StreamHead } from '../eventStore.js';
import { describeExpected, satisfiesExpected } from '../expectedRevision.js';
import type { ValidatedAppend } from '../shared/appendValidation.js';
import { chainEvents } from '../shared/chainEvents.js';
import { replayedResult } from '../shared/commandReplay.js';
import {
  damagedFileError,
  eventColumns,
  sqliteStoreError,
  toRecorded,
  type EventRow,
} from './sqliteSchema.js';

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

interface PendingAppend {
  readonly append: ValidatedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

export interface SqliteGroupCommitHooks {
  /** Most appends committed in one transaction. */
  readonly maxAppendsPerCommit: number;
  /** The error to refuse a queued append with instead of writing it (closed, damaged), or null. */
  refusal(): Error | null;
  /** After every COMMIT. */
  committed(): void;
  /** A write failed with a typed error: the store may latch it (a damaged file, say). */
  failed(error: Error): void;
}

/**
 * Group commit: appends that arrive while the event loop is busy are queued and written, on the
 * next turn of the loop, in one transaction with one savepoint each; a refused append (stale
 * revision, reused command id) rolls back to its savepoint and the others commit. Every append
 * is resolved only after COMMIT returned, and with `synchronous=FULL` that means the WAL was
 * fsynced: acknowledged appends survive a crash or power loss.
 */
export class SqliteGroupCommit {
  readonly #db: Database.Database;
  readonly #hooks: SqliteGroupCommitHooks;
  readonly #s;
  #queue: PendingAppend[] = [];
  #transactions = 0;
  #appendsCommitted = 0;
  #flushScheduled = false;

  /** Prepares its statements: call it where driver errors are mapped (a damaged schema fails here). */
  constructor(db: Database.Database, hooks: SqliteGroupCommitHooks) {
    this.#db = db;
    this.#hooks = hooks;
    this.#s = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT append'),
      release: db.prepare('RELEASE append'),
      rollbackTo: db.prepare('ROLLBACK TO append'),
      head: db
        .prepare(
          'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
        )
        .raw(true)
        .safeIntegers(true),
      command: db
        .prepare('SELECT stream, first_revision FROM commands WHERE first_event_id = ?')
        .raw(true)
        .safeIntegers(true),
      insertCommand: db.prepare(
        'INSERT INTO commands (first_event_id, stream, first_revision) VALUES (?, ?, ?)',
      ),
      insert: db.prepare(
        'INSERT INTO events (stream, revision, event_id, type, data, metadata, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      streamForwards: db
        .prepare(
          `SELECT ${eventColumns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
        )
        .raw(true)
        .safeIntegers(true),
    };
  }

  /** Queues an append for the next group; resolves after its COMMIT. */
  enqueue(append: ValidatedAppend): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ append, resolve, reject });
      this.#scheduleFlush();
    });
  }

  /** Committed transactions and the appends they carried (refused ones included). */
  stats(): { readonly transactions: number; readonly appends: number } {
    return { transactions: this.#transactions, appends: this.#appendsCommitted };
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate, not a microtask: writers whose previous append just resolved get to queue
    // their next one first, so a group collects every writer that is ready.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** Writes queued appends in group transactions; resolves each only after its COMMIT. */
  flush(): void {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#hooks.maxAppendsPerCommit);
      const refusal = this.#hooks.refusal();
      if (refusal !== null) {
        for (const pending of batch) pending.reject(refusal);
        continue;
      }
      const s = this.#s;
      let outcomes: Outcome[] | null;
      try {
        s.begin.run();
        outcomes = this.#writeGroup(batch, false);
        if (outcomes === null) {
          if (this.#db.inTransaction) s.rollback.run();
          s.begin.run();
          outcomes = this.#writeGroup(batch, true) as Outcome[];
        }
        s.commit.run();
        this.#transactions += 1;
        this.#appendsCommitted += batch.length;
      } catch (error) {
        if (this.#db.inTransaction) {
          try {
            s.rollback.run();
          } catch {
            // The connection is failing as a whole; the appends are refused below either way.
          }
        }
        const failure = sqliteStoreError(error, 'commit');
        this.#hooks.failed(failure);
        for (const pending of batch) pending.reject(failure);
        continue;
      }
      batch.forEach((pending, index) => {
        const outcome = outcomes[index];
        if (outcome?.ok === true) pending.resolve(outcome.result);
        else pending.reject(outcome?.error);
      });
      this.#hooks.committed();
    }
  }

  /**
   * Runs the appends of a group in the open transaction. The first try uses no savepoints (two
   * statements fewer per append): a refusal of ours can be recorded and the group go on, since
   * every check that refuses runs before the append writes anything. A failure while writing
   * returns null; the caller rolls back and runs the group again with one savepoint per append,
   * so that only the failing append is refused.
   */
  #writeGroup(batch: readonly PendingAppend[], savepoints: boolean): Outcome[] | null {
    const s = this.#s;
    const outcomes: Outcome[] = [];
    for (const pending of batch) {
      if (savepoints) s.savepoint.run();
      try {
        outcomes.push({ ok: true, result: this.#appendInTransaction(pending.append) });
        if (savepoints) s.release.run();
      } catch (error) {
        if (savepoints) {
          s.rollbackTo.run();
          s.release.run();
        } else if (!isRatsfachError(error)) return null;
        const mapped = sqliteStoreError(error, 'append');
        if (isRatsfachError(mapped)) this.#hooks.failed(mapped);
        outcomes.push({ ok: false, error: mapped });
      }
    }
    return outcomes;
  }

  /**
   * Writes one append in the open transaction. Every refusal (a ratsfach error) must be thrown
   * before the first write: #writeGroup relies on it to go on without a savepoint.
   */
  #appendInTransaction(append: ValidatedAppend): AppendResult {
    const s = this.#s;
    const previous = s.command.get(append.eventIds[0]) as [string, bigint] | undefined;
    if (previous !== undefined) {
      const stored = (
        s.streamForwards.all(previous[0], previous[1], append.events.length + 1) as EventRow[]
      ).map(toRecorded);
      if (stored.length === 0) {
        // A command row whose events are gone: the file lost them (see sqliteFileCheck.ts).
        throw damagedFileError('a stored command id names no event', { check: 'commands' });
      }
      return replayedResult(append, stored);
    }
    const headRow = s.head.get(append.stream) as [unknown, unknown] | undefined;
    if (
      headRow !== undefined &&
      (typeof headRow[0] !== 'bigint' ||
        !(headRow[1] instanceof Uint8Array) ||
        headRow[1].length !== 64)
    ) {
      throw damagedFileError('the stream head has the wrong shape', { stream: append.stream });
    }
    const head: StreamHead | null =
      headRow === undefined
        ? null
        : { revision: headRow[0] as bigint, hash: headRow[1] as Uint8Array };
    const actual = head === null ? null : head.revision;
    if (!satisfiesExpected(append.expected, actual)) {
      throw new ConcurrencyError(append.stream, describeExpected(append.expected), actual);
    }
    let lastPosition = 0n;
    const chained = chainEvents(append, head);
    s.insertCommand.run(
      append.eventIds[0],
      append.stream,
      (chained[0] as { revision: bigint }).revision,
    );
    for (const event of chained) {
      const info = s.insert.run(
        append.stream,
        event.revision,
        event.eventId,
        event.type,
        event.data,
        event.metadata,
        event.hash,
        event.prevHash,
      );
      lastPosition = BigInt(info.lastInsertRowid);
    }
    return {
      nextExpectedRevision: (chained[chained.length - 1] as { revision: bigint }).revision,
      lastGlobalPosition: lastPosition,
      eventIds: append.eventIds,
      replayed: false,
    };
  }
}
