import { isRatsfachError, ValidationError } from '@ratsfach/kernel';
import {
  CommandIdReusedError,
  ConcurrencyError,
  EventStoreErrorCode,
  StoreIntegrityError,
  StoreUnavailableError,
} from '../../errors.js';
import type { ValidatedAppend } from '../../shared/appendValidation.js';
import type { AppendResult } from '../../eventStore.js';

/** Messages from the caller's thread to the writer thread. */
export type WriterRequest =
  | {
      readonly kind: 'append';
      readonly id: number;
      /** Validated, event ids derived, on the caller's thread: the writer does not repeat it. */
      readonly append: ValidatedAppend;
    }
  | { readonly kind: 'close' };

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface SerializedError {
  readonly code: string | null;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly hint?: string;
}

/** Messages from the writer thread back. */
export type WriterReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly error: SerializedError }
  | { readonly kind: 'appended'; readonly id: number; readonly result: AppendResult }
  | { readonly kind: 'refused'; readonly id: number; readonly error: SerializedError }
  | { readonly kind: 'closed' };

export const serializeError = (error: unknown): SerializedError =>
  isRatsfachError(error)
    ? { code: error.code, message: error.message, details: error.details, hint: error.hint }
    : { code: null, message: error instanceof Error ? error.message : String(error), details: {} };

/** Rebuilds the typed error the writer thread threw, by its stable code. */
export function deserializeError(error: SerializedError): Error {
  const details = error.details as Record<string, string | null | undefined>;
  switch (error.code) {
    case EventStoreErrorCode.concurrency:
      return new ConcurrencyError(
        String(details.stream),
        String(details.expected),
        details.actual === null || details.actual === undefined ? null : BigInt(details.actual),
      );
    case EventStoreErrorCode.commandIdReused:
      return new CommandIdReusedError(
        String(details.commandId),
        String(details.stream),
        error.message.replace(/^command id "[^"]*" was already used /, ''),
        details.storedStream ?? undefined,
      );
    case EventStoreErrorCode.integrity:
      return new StoreIntegrityError(error.message, {
        details: error.details,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
      });
    case EventStoreErrorCode.unavailable:
    case null:
      return new StoreUnavailableError(error.message, { details: error.details });
    default:
      // Validation happens on the caller's thread first, so this is a rule the two threads
      // disagree on: keep its code.
      return new ValidationError(error.code, error.message, { details: error.details });
  }
}
