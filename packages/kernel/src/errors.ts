/**
 * The small set of errors every package of ratsfach throws. Each carries a stable `code`
 * (prefixed `RATSFACH_`, never changed once released) and a `hint` that tells the reader what
 * to do next. Services map the `kind` to a status code; nothing maps on message text.
 */
export const ErrorKind = {
  validation: 'validation',
  notFound: 'not_found',
  forbidden: 'forbidden',
  conflict: 'conflict',
  integrity: 'integrity',
  unavailable: 'unavailable',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export interface RatsfachErrorOptions {
  /** What the reader should do next, in one sentence. */
  readonly hint?: string;
  readonly cause?: unknown;
  /** Structured facts for logs and API bodies; never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Base of every error ratsfach throws on purpose. */
export abstract class RatsfachError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: RatsfachErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }
}

/** Input that is malformed or breaks a rule: the caller must change it. */
export class ValidationError extends RatsfachError {
  readonly kind = ErrorKind.validation;
}

/** A stream, object or record that does not exist (or that the caller may not know exists). */
export class NotFoundError extends RatsfachError {
  readonly kind = ErrorKind.notFound;
}

/** The caller is known but lacks the right for this action. */
export class ForbiddenError extends RatsfachError {
  readonly kind = ErrorKind.forbidden;
}

/** The action lost a race or contradicts the current state: reload and decide again. */
export class ConflictError extends RatsfachError {
  readonly kind = ErrorKind.conflict;
}

/** Stored or received bytes fail a hash, signature, chain or encoding check. Never retried. */
export class IntegrityError extends RatsfachError {
  readonly kind = ErrorKind.integrity;
}

/** A backing service (database, object store) cannot be reached: retry later. */
export class UnavailableError extends RatsfachError {
  readonly kind = ErrorKind.unavailable;
}

export const isRatsfachError = (error: unknown): error is RatsfachError =>
  error instanceof RatsfachError;
