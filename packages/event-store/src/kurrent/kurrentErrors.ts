import { isRatsfachError, ValidationError, type RatsfachError } from '@ratsfach/kernel';
import { ConcurrencyError, StoreIntegrityError, StoreUnavailableError } from '../errors.js';

/** What the adapter was doing when the client failed, for messages and ConcurrencyError. */
export interface KurrentErrorContext {
  readonly operation: string;
  readonly stream?: string;
  /** The expected revision as the caller wrote it (`describeExpected`), for ConcurrencyError. */
  readonly expected?: string;
}

export const KURRENTDB_URL_HINT =
  'check that KurrentDB is running and that KURRENTDB_URL (for example kurrentdb://127.0.0.1:2113?tls=false) points at it, then retry';

/**
 * One append is larger than the server's `MaxAppendSize` (1 MiB by default), although each event
 * passed the store's own `maxEventBytes`: the server refuses the whole append and writes nothing.
 */
export class KurrentAppendTooLargeError extends ValidationError {
  constructor(
    stream: string,
    maxAppendSize: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(
      'RATSFACH_EVENT_STORE_KURRENTDB_APPEND_TOO_LARGE',
      `append to stream ${stream} is larger than the KurrentDB server accepts${
        maxAppendSize === undefined ? '' : ` (${maxAppendSize} bytes)`
      }`,
      {
        hint: 'split the command into smaller appends, or raise the server option MaxAppendSize above maxEventBytes x maxEventsPerAppend plus 136 bytes per event',
        details: { stream, ...(maxAppendSize === undefined ? {} : { maxAppendSize }) },
        ...(options.cause === undefined ? {} : { cause: options.cause }),
      },
    );
  }
}

/** The KurrentDB connection string cannot be parsed by the client. */
export class KurrentConnectionStringError extends ValidationError {
  constructor(cause: unknown) {
    super(
      'RATSFACH_EVENT_STORE_KURRENTDB_URL_INVALID',
      `the KurrentDB connection string is not valid: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        hint: `set KURRENTDB_URL to a connection string such as kurrentdb://127.0.0.1:2113?tls=false`,
        cause,
      },
    );
  }
}

/**
 * The shape every error of the official client has: command errors carry a `type` string (the
 * client's ErrorType values), raw gRPC errors a numeric `code`. Read structurally, so a second
 * copy of the client in node_modules cannot defeat an `instanceof`.
 */
interface ClientErrorShape {
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly actualState?: unknown;
  readonly maxAppendSize?: unknown;
  readonly maxSize?: unknown;
}

/** gRPC status codes that mean "the server is not reachable or did not answer in time". */
const unreachableGrpcCodes: ReadonlySet<number> = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
]);

const sizeTypes: ReadonlySet<string> = new Set([
  'maximum-append-size-exceeded',
  'append-record-size-exceeded',
  'transaction-max-size-exceeded',
]);

const deletedTypes: ReadonlySet<string> = new Set(['stream-deleted', 'stream-tombstoned']);

/**
 * Translates whatever the KurrentDB client threw into the store's typed errors, so no driver
 * error ever leaves the adapter:
 *
 * - WrongExpectedVersionError -> ConcurrencyError (with the stream's actual revision);
 * - append-size refusals -> KurrentAppendTooLargeError;
 * - a deleted or tombstoned stream -> StoreIntegrityError (ratsfach never deletes streams);
 * - access denied -> StoreUnavailableError naming the credentials in KURRENTDB_URL;
 * - everything else (unreachable, deadline exceeded, not leader, unknown) -> StoreUnavailableError
 *   with a hint naming KURRENTDB_URL.
 *
 * Errors that are already ratsfach errors pass through unchanged.
 */
export function toStoreError(error: unknown, context: KurrentErrorContext): RatsfachError {
  if (isRatsfachError(error)) return error;
  const shape: ClientErrorShape = typeof error === 'object' && error !== null ? error : {};
  const type = typeof shape.type === 'string' ? shape.type : undefined;
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  const where = `${context.operation}${context.stream === undefined ? '' : ` on stream ${context.stream}`}`;

  if (type === 'wrong-expected-version' && context.stream !== undefined) {
    const actual = typeof shape.actualState === 'bigint' ? shape.actualState : null;
    return new ConcurrencyError(context.stream, context.expected ?? 'any', actual, {
      cause: error,
    });
  }
  if (type !== undefined && sizeTypes.has(type)) {
    const limit =
      typeof shape.maxAppendSize === 'number'
        ? shape.maxAppendSize
        : typeof shape.maxSize === 'number'
          ? shape.maxSize
          : undefined;
    return new KurrentAppendTooLargeError(context.stream ?? 'unknown', limit, { cause: error });
  }
  if (type !== undefined && deletedTypes.has(type)) {
    return new StoreIntegrityError(
      `KurrentDB reports stream ${context.stream ?? ''} as deleted (${where})`,
      {
        hint: 'ratsfach never deletes streams: someone deleted it behind the service; restore the log from a backup',
        cause: error,
      },
    );
  }
  if (type === 'access-denied') {
    return new StoreUnavailableError(`KurrentDB denied access during ${where}: ${message}`, {
      hint: 'check the user name and password in KURRENTDB_URL and the ACLs on the server',
      cause: error,
      details: { backend: 'kurrentdb', operation: context.operation },
    });
  }
  const grpcCode = typeof shape.code === 'number' ? shape.code : undefined;
  const unreachable =
    type === 'unavailable' ||
    type === 'deadline-exceeded' ||
    type === 'timeout' ||
    type === 'cancelled' ||
    type === 'not-leader' ||
    (grpcCode !== undefined && unreachableGrpcCodes.has(grpcCode));
  return new StoreUnavailableError(
    `KurrentDB ${unreachable ? 'is unreachable' : 'failed'} during ${where}: ${message}`,
    {
      hint: KURRENTDB_URL_HINT,
      cause: error,
      details: {
        backend: 'kurrentdb',
        operation: context.operation,
        ...(type === undefined ? {} : { clientError: type }),
      },
    },
  );
}

/** True when the client reports a stream that does not exist (a read of it is simply empty). */
export const isStreamNotFound = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  ((error as ClientErrorShape).type === 'stream-not-found' ||
    (error as { name?: unknown }).name === 'StreamNotFoundError');

/** True when the client reports a failed optimistic-concurrency check. */
export const isWrongExpectedVersion = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as ClientErrorShape).type === 'wrong-expected-version';
