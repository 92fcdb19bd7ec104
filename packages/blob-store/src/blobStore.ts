import type { Readable } from 'node:stream';
import type { BlobKind, BlobRef } from './blobRef.js';
import type { BlobSessionDamagedError } from './errors.js';
import type { GcRecordShelf } from './blobGcLedger.js';

/**
 * Bytes handed to the store: a Node Readable, any async iterable of byte chunks, or (for small
 * objects and tests) an array of chunks. The store consumes it once with `for await`, chunk by
 * chunk, and never holds more than a bounded buffer in memory.
 */
export type BlobBody = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** What the store knows about a stored object. */
export interface BlobInfo extends BlobRef {
  readonly size: number;
  /**
   * When the object became visible, or was last stored again: the age the garbage collector
   * judges it by.
   */
  readonly createdAt: Date;
}

/** A byte range: `length` bytes from `offset` (to the end when `length` is omitted). */
export interface ByteRange {
  readonly offset: number;
  readonly length?: number;
}

/** An object being read: the body streams the requested range only. */
export interface BlobContent {
  readonly body: Readable;
  /** Size of the whole object. */
  readonly size: number;
  /** The range the body holds (the whole object when no range was asked for). */
  readonly offset: number;
  readonly length: number;
}

/** What a caller announces when it starts an upload. */
export interface CreateSessionInput extends BlobRef {
  /** Exact size of the object in bytes. */
  readonly size: number;
  /**
   * Part size the blob hash was computed over (the version record names it); upload parts have
   * this size too. Omit it for the store's default `partSize`. Outside the adapter's range
   * (at least 1 KiB, at most 1 GiB; S3 at least 5 MiB) it is refused with BlobOptionInvalidError.
   */
  readonly partSize?: number;
}

/** An upload session: the object becomes visible only when `completeSession` succeeds. */
export interface UploadSession extends BlobRef {
  /** Opaque id, unique in the tenant; only valid together with its tenant. */
  readonly id: string;
  readonly size: number;
  readonly partSize: number;
  /** Number of parts: `max(1, ceil(size / partSize))`; indexes run from 0. */
  readonly partCount: number;
  readonly createdAt: Date;
  /** Last time a part was written (or the creation time): abandoned sessions are judged by it. */
  readonly updatedAt: Date;
}

/** A part stored in a session. */
export interface PartInfo {
  readonly index: number;
  readonly size: number;
  /** BLAKE2b-512 of the part's bytes, 128 lowercase hex characters. */
  readonly hash: string;
}

/** How `listSessions` treats a session whose stored state is damaged. */
export interface ListSessionsOptions {
  /** Called for each damaged session, which is then skipped instead of ending the listing. */
  readonly onDamaged?: (error: BlobSessionDamagedError) => void;
}

/** What a one-shot `put` needs: the key, the exact size, and the hash's part size. */
export interface PutInput extends BlobRef {
  readonly size: number;
  /** Part size the hash was computed over; defaults to the store's `partSize`. */
  readonly partSize?: number;
}

/** A time-limited URL that lets a device fetch one object without the API process in the path. */
export interface PresignedGet {
  readonly url: string;
  readonly expiresAt: Date;
}

/** What an adapter can do beyond the common interface. */
export interface BlobStoreCapabilities {
  /** True when `presignGet` returns URLs; false when it always returns null. */
  readonly presignGet: boolean;
}

/** Longest lifetime of a presigned URL, in seconds. */
export const MAX_PRESIGN_TTL_SECONDS = 60;

/**
 * Immutable objects keyed by their hash, namespaced by tenant. Every adapter (filesystem, S3)
 * implements this and passes the shared contract suite (test/contract.ts).
 *
 * Rules every method keeps:
 * - refs are checked first (assertBlobRef): a malformed tenant, kind or hash throws
 *   BlobKeyInvalidError before anything reaches the backend;
 * - an object is visible only after its whole hash and size were checked; a failure at any
 *   point leaves no visible object, partial or otherwise;
 * - storing an object again (same tenant, kind and hash) is an idempotent success; only bytes
 *   checked against the hash ever land under its key, so a stored object always matches it;
 * - backend failures surface as BlobStoreUnavailableError, never as the backend's own error.
 */
export interface BlobStore {
  /** Default part size of uploads and of the blob hash, in bytes (8 MiB unless configured). */
  readonly partSize: number;
  readonly capabilities: BlobStoreCapabilities;
  /**
   * Where the garbage collector's marks and the commit path's reservations live, beside the
   * objects (see BlobGcLedger, BlobCommitGuard and the package README).
   */
  readonly gcShelf: GcRecordShelf;

  /**
   * Starts an upload of one object. Throws BlobKeyInvalidError for a bad ref and
   * BlobOptionInvalidError for a negative or non-integer size or a part size out of range.
   * Creating a session for an object that already exists is allowed.
   */
  createSession(input: CreateSessionInput): Promise<UploadSession>;

  /** A session by id; throws BlobSessionNotFoundError when unknown in this tenant. */
  getSession(tenant: string, sessionId: string): Promise<UploadSession>;

  /**
   * Streams part `index` into the session, hashing it as it arrives. Part i must hold exactly
   * the bytes [i * partSize, min(size, (i + 1) * partSize)): an index out of range, a body that
   * ends early or runs long throws BlobPartInvalidError (reason `index`, `short`, `long`) and
   * leaves the part absent. When `expectedHash` (hex) is given, a part that hashes otherwise
   * throws BlobHashMismatchError. Putting a part again replaces it. Parts may arrive in any
   * order and concurrently (different indexes); the same index twice at once throws
   * BlobSessionBusyError.
   */
  putPart(
    tenant: string,
    sessionId: string,
    index: number,
    body: BlobBody,
    expectedHash?: string,
  ): Promise<PartInfo>;

  /** The parts stored so far, by index: what a resumed upload still has to send. */
  listParts(tenant: string, sessionId: string): Promise<PartInfo[]>;

  /**
   * Checks the parts (all present: else BlobSessionIncompleteError with `details.missing`),
   * the size (BlobSizeMismatchError) and the blob hash over the part hashes
   * (BlobHashMismatchError), then makes the object visible and ends the session. A failed
   * check leaves the session as it was (parts can be replaced) and nothing visible. The check
   * covers the exact bytes that become the object: a part whose stored bytes no longer match the
   * hash it was recorded with counts as missing. When the object already exists it is replaced
   * by the checked bytes (so a damaged object never survives an honest upload) and its age
   * (`createdAt`) restarts, so that the garbage collector's grace period protects it until the
   * record about to name it is committed. Completing a session that already completed returns
   * the object (age restarted) while it exists, instead of BlobSessionNotFoundError.
   */
  completeSession(tenant: string, sessionId: string): Promise<BlobInfo>;

  /** Ends a session and drops its parts; unknown sessions are ignored (idempotent). */
  abortSession(tenant: string, sessionId: string): Promise<void>;

  /**
   * Sessions of a tenant, for resumption lists and the garbage collector. A session whose stored
   * state is damaged throws BlobSessionDamagedError, unless `options.onDamaged` is given: then
   * it is reported there and skipped, and the listing goes on.
   */
  listSessions(tenant: string, options?: ListSessionsOptions): AsyncIterable<UploadSession>;

  /**
   * Stores a whole object from one stream: the same checks as a session (size, hash), for
   * key slots and small blobs. Throws BlobSizeMismatchError or BlobHashMismatchError and leaves
   * nothing visible when they fail. When the object exists it is replaced by the checked bytes
   * and its age restarts, as `completeSession` does.
   */
  put(input: PutInput, body: BlobBody): Promise<BlobInfo>;

  /**
   * Streams an object, or `range` of it. Throws BlobNotFoundError when absent and
   * BlobRangeInvalidError for a range that does not fit.
   */
  get(ref: BlobRef, range?: ByteRange): Promise<BlobContent>;

  /** Size and age of an object, or null when absent. */
  head(ref: BlobRef): Promise<BlobInfo | null>;

  /**
   * Removes an object for good (on S3 every version of it). Returns false when it was absent.
   * Used to erase key slots and by the garbage collector.
   */
  delete(ref: BlobRef): Promise<boolean>;

  /** Objects of one kind in one tenant, in no particular order, with their age. */
  list(tenant: string, kind: BlobKind): AsyncIterable<BlobInfo>;

  /** Tenants that have objects or sessions, for the garbage collector. */
  listTenants(): AsyncIterable<string>;

  /**
   * A URL that fetches the object for `ttlSeconds` (1 to MAX_PRESIGN_TTL_SECONDS, else
   * BlobOptionInvalidError). Returns null when the adapter cannot presign
   * (`capabilities.presignGet` false, as on the filesystem adapter): the caller then streams
   * the object through the API. Throws BlobNotFoundError when the object is absent.
   */
  presignGet(ref: BlobRef, ttlSeconds: number): Promise<PresignedGet | null>;

  /** Releases handles and timers; the store must not be used afterwards. */
  close(): Promise<void>;
}
