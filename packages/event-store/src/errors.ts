import {
  ConflictError,
  IntegrityError,
  UnavailableError,
  ValidationError,
  type RatsfachErrorOptions,
} from '@ratsfach/kernel';

/**
 * The typed errors of the event store. Every adapter throws exactly these (never a driver's own
 * error), so callers and the API map them by class and code alone.
 */
export const EventStoreErrorCode = {
  concurrency: 'RATSFACH_EVENT_STORE_CONCURRENCY',
  eventTooLarge: 'RATSFACH_EVENT_STORE_EVENT_TOO_LARGE',
  tooManyEvents: 'RATSFACH_EVENT_STORE_TOO_MANY_EVENTS',
  emptyAppend: 'RATSFACH_EVENT_STORE_EMPTY_APPEND',
  invalidEvent: 'RATSFACH_EVENT_STORE_EVENT_INVALID',
  invalidCommandId: 'RATSFACH_EVENT_STORE_COMMAND_ID_INVALID',
  invalidExpectedRevision: 'RATSFACH_EVENT_STORE_EXPECTED_REVISION_INVALID',
  invalidReadOptions: 'RATSFACH_EVENT_STORE_READ_OPTIONS_INVALID',
  commandIdReused: 'RATSFACH_EVENT_STORE_COMMAND_ID_REUSED',
  unavailable: 'RATSFACH_EVENT_STORE_UNAVAILABLE',
  integrity: 'RATSFACH_EVENT_STORE_INTEGRITY',
} as const;
export type EventStoreErrorCode = (typeof EventStoreErrorCode)[keyof typeof EventStoreErrorCode];

/** `actual` revision of a stream as reported in errors: `null` when the stream does not exist. */
const revisionText = (revision: bigint | null): string | null =>
  revision === null ? null : revision.toString();

/**
 * The stream was not at the expected revision: another writer won the race. Reload the stream,
 * decide again and retry (the command handler does this a bounded number of times).
 * `details.expected` and `details.actual` are strings (bigints do not survive JSON).
 */
export class ConcurrencyError extends ConflictError {
  readonly stream: string;
  readonly expected: string;
  /** The stream's current revision, or null when it does not exist. */
  readonly actual: bigint | null;

  constructor(
    stream: string,
    expected: string,
    actual: bigint | null,
    options: RatsfachErrorOptions = {},
  ) {
    super(
      EventStoreErrorCode.concurrency,
      `stream ${stream} is at ${actual === null ? 'no stream' : `revision ${actual}`}, expected ${expected}`,
      {
        hint: 'another writer changed the stream first: reload it, decide again and retry',
        ...options,
        details: { stream, expected, actual: revisionText(actual) },
      },
    );
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}

/** One event is larger than the store's `maxEventBytes`. */
export class EventTooLargeError extends ValidationError {
  constructor(stream: string, index: number, size: number, limit: number) {
    super(
      EventStoreErrorCode.eventTooLarge,
      `event ${index} for stream ${stream} is ${size} bytes, over the limit of ${limit}`,
      {
        hint: 'keep large content in the blob store and put only its reference in the event',
        details: { stream, index, size, limit },
      },
    );
  }
}

/** More events in one append than `maxEventsPerAppend`. */
export class TooManyEventsError extends ValidationError {
  constructor(stream: string, count: number, limit: number) {
    super(
      EventStoreErrorCode.tooManyEvents,
      `append of ${count} events to stream ${stream} is over the limit of ${limit}`,
      { hint: 'split the command into smaller ones', details: { stream, count, limit } },
    );
  }
}

/** An append with no events: there is nothing to make idempotent or to hash. */
export class EmptyAppendError extends ValidationError {
  constructor(stream: string) {
    super(EventStoreErrorCode.emptyAppend, `append to stream ${stream} has no events`, {
      hint: 'append at least one event; a command that decides nothing needs no append',
      details: { stream },
    });
  }
}

/** A NewEvent of the wrong shape (empty type, data that is not a Uint8Array, ...). */
export class InvalidEventError extends ValidationError {
  constructor(stream: string, index: number, why: string) {
    super(EventStoreErrorCode.invalidEvent, `event ${index} for stream ${stream}: ${why}`, {
      hint: 'events are { type: non-empty string of at most 200 characters, data: Uint8Array, metadata: Uint8Array }',
      details: { stream, index },
    });
  }
}

/** The command id is missing or of the wrong shape. */
export class InvalidCommandIdError extends ValidationError {
  constructor(why: string) {
    super(EventStoreErrorCode.invalidCommandId, `command id: ${why}`, {
      hint: 'send a client-chosen command id of 1 to 200 printable ASCII characters (a UUID, say)',
    });
  }
}

/** `expected` is none of the sentinels nor a revision >= 0. */
export class InvalidExpectedRevisionError extends ValidationError {
  constructor(expected: unknown) {
    super(
      EventStoreErrorCode.invalidExpectedRevision,
      `expected revision ${String(expected)} is not no_stream, stream_exists, any or a bigint >= 0`,
      { hint: 'pass one of the sentinels of expectedRevision.ts or the revision you read' },
    );
  }
}

/** Read options out of range (negative maxCount or revision, ...). */
export class InvalidReadOptionsError extends ValidationError {
  constructor(why: string) {
    super(EventStoreErrorCode.invalidReadOptions, `read options: ${why}`, {
      hint: 'maxCount is a positive integer, revisions and positions are bigints >= 0',
    });
  }
}

/**
 * The command id was already appended with different events or to a different stream. A retry
 * must resend the same command; a new command needs a new id.
 */
export class CommandIdReusedError extends ConflictError {
  constructor(commandId: string, stream: string, why: string, storedStream?: string) {
    super(
      EventStoreErrorCode.commandIdReused,
      `command id ${JSON.stringify(commandId)} was already used ${why}`,
      {
        hint: 'give every new command a fresh id; retry only with the very same command',
        details: { commandId, stream, ...(storedStream === undefined ? {} : { storedStream }) },
      },
    );
  }
}

/** The database is closed, gone or failing: nothing was written by the failing call. */
export class StoreUnavailableError extends UnavailableError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(EventStoreErrorCode.unavailable, message, {
      hint: 'check that the database is running and reachable, then retry',
      ...options,
    });
  }
}

/** Stored bytes that contradict the store's own invariants (hash chain, encoding). */
export class StoreIntegrityError extends IntegrityError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(EventStoreErrorCode.integrity, message, {
      hint: 'run verify to find the first broken event and restore the log from a backup',
      ...options,
    });
  }
}
