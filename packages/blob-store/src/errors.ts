import {
  ConflictError,
  IntegrityError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  type RatsfachErrorOptions,
} from '@ratsfach/kernel';

/**
 * The stable error codes of the blob store. Every adapter throws exactly these, so callers
 * (the API's error handler, the garbage collector) never look at a backend's own errors.
 */
export const BlobErrorCode = {
  notFound: 'RATSFACH_BLOB_NOT_FOUND',
  sessionNotFound: 'RATSFACH_BLOB_SESSION_NOT_FOUND',
  sessionIncomplete: 'RATSFACH_BLOB_SESSION_INCOMPLETE',
  sessionBusy: 'RATSFACH_BLOB_SESSION_BUSY',
  hashMismatch: 'RATSFACH_BLOB_HASH_MISMATCH',
  sizeMismatch: 'RATSFACH_BLOB_SIZE_MISMATCH',
  invalidKey: 'RATSFACH_BLOB_KEY_INVALID',
  invalidPart: 'RATSFACH_BLOB_PART_INVALID',
  invalidRange: 'RATSFACH_BLOB_RANGE_INVALID',
  invalidOption: 'RATSFACH_BLOB_OPTION_INVALID',
  unavailable: 'RATSFACH_BLOB_UNAVAILABLE',
  versionedBucketRefused: 'RATSFACH_BLOB_VERSIONED_BUCKET_REFUSED',
  sessionDamaged: 'RATSFACH_BLOB_SESSION_DAMAGED',
  condemned: 'RATSFACH_BLOB_CONDEMNED',
} as const;
export type BlobErrorCode = (typeof BlobErrorCode)[keyof typeof BlobErrorCode];

/** The object does not exist (or is not in this tenant's namespace). */
export class BlobNotFoundError extends NotFoundError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.notFound, message, {
      hint: 'upload the object first, or check tenant, kind and hash',
      ...options,
    });
  }
}

/** The upload session does not exist: never created, completed, aborted or cleaned up. */
export class BlobSessionNotFoundError extends NotFoundError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.sessionNotFound, message, {
      hint: 'check whether the object exists (head); if not, create a new upload session',
      ...options,
    });
  }
}

/** Complete was called while parts are missing; `details.missing` lists their indexes. */
export class BlobSessionIncompleteError extends ConflictError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.sessionIncomplete, message, {
      hint: 'list the parts of the session, upload the missing ones, then complete again',
      ...options,
    });
  }
}

/** Another call is writing the same part or completing the same session right now. */
export class BlobSessionBusyError extends ConflictError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.sessionBusy, message, {
      hint: 'wait for the other call on this session to finish, then retry',
      ...options,
    });
  }
}

/** Bytes received do not hash to the expected hash (whole object or one part). */
export class BlobHashMismatchError extends IntegrityError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.hashMismatch, message, {
      hint: 'the bytes were altered or the hash was computed over other bytes; upload again',
      ...options,
    });
  }
}

/** The object's total size differs from the size announced when the session was created. */
export class BlobSizeMismatchError extends IntegrityError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.sizeMismatch, message, {
      hint: 'create a session with the real size of the object and upload again',
      ...options,
    });
  }
}

/** A tenant id, kind or hash of the wrong shape. Nothing outside a tenant's namespace is ever reached. */
export class BlobKeyInvalidError extends ValidationError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.invalidKey, message, {
      hint: 'tenant ids are [a-z0-9_]{1,64}, kinds blob or keyslot, hashes 128 lowercase hex characters',
      ...options,
    });
  }
}

/**
 * A part outside the session (index out of range) or of the wrong length (ends early or runs
 * long). `details.reason` is `index`, `short` or `long`.
 */
export class BlobPartInvalidError extends ValidationError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.invalidPart, message, {
      hint: 'part i covers bytes [i * partSize, min(size, (i + 1) * partSize)); send exactly those',
      ...options,
    });
  }
}

/** A byte range that does not fit the object. */
export class BlobRangeInvalidError extends ValidationError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.invalidRange, message, {
      hint: 'ask for a range with 0 <= offset <= size and offset + length <= size',
      ...options,
    });
  }
}

/** An argument or configuration value out of its allowed range (a presign ttl, a part size). */
export class BlobOptionInvalidError extends ValidationError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.invalidOption, message, {
      hint: 'see the JSDoc of the option for its allowed range',
      ...options,
    });
  }
}

/** The backend cannot be reached or failed after its retries; nothing was made visible. */
export class BlobStoreUnavailableError extends UnavailableError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.unavailable, message, {
      hint: 'retry later; an upload session can be resumed once the store is back',
      ...options,
    });
  }
}

/** An S3 bucket with versioning: a delete would leave old versions behind, so it is refused. */
export class BlobVersionedBucketError extends ValidationError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.versionedBucketRefused, message, {
      hint: 'use a bucket without versioning (suspend is not enough: create a new bucket)',
      ...options,
    });
  }
}

/**
 * A session's stored state (`session.json`) is unreadable or malformed: the disk or bucket was
 * damaged or tampered with. `details` name the tenant and session; nothing was written.
 */
export class BlobSessionDamagedError extends IntegrityError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.sessionDamaged, message, {
      hint: 'abort the session (abortSession) and start the upload again',
      ...options,
    });
  }
}

/**
 * A commit names a blob the garbage collector has condemned (or is deleting): the record would
 * point at bytes about to vanish, so it is refused before it is appended.
 */
export class BlobCondemnedError extends ConflictError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(BlobErrorCode.condemned, message, {
      hint: 'upload the blob again (put or a new upload session), then retry the command',
      ...options,
    });
  }
}
