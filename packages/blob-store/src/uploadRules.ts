import { assertBlobRef, BlobKind, isBlobHash } from './blobRef.js';
import {
  MAX_PRESIGN_TTL_SECONDS,
  type ByteRange,
  type CreateSessionInput,
  type PartInfo,
} from './blobStore.js';
import {
  BlobHashMismatchError,
  BlobKeyInvalidError,
  BlobOptionInvalidError,
  BlobPartInvalidError,
  BlobRangeInvalidError,
  BlobSessionIncompleteError,
  BlobSizeMismatchError,
} from './errors.js';
import {
  combinePartHashes,
  MAX_KEYSLOT_SIZE,
  MAX_PART_SIZE,
  MIN_PART_SIZE,
  partCountFor,
  partLengthFor,
} from './partHash.js';

/**
 * The checks every adapter makes the same way, so that the filesystem and S3 adapters refuse
 * exactly the same inputs with exactly the same errors.
 */

/** Largest object size accepted: 5 TiB, S3's limit, and far below 2^53. */
export const MAX_BLOB_SIZE = 5 * 1024 ** 4;

/** The part sizes an adapter accepts (S3 needs at least 5 MiB for multipart parts). */
export interface PartSizeRange {
  readonly min: number;
  readonly max: number;
}

/** The hash's own bounds; an adapter may narrow them. */
export const HASH_PART_SIZE_RANGE: PartSizeRange = { min: MIN_PART_SIZE, max: MAX_PART_SIZE };

/**
 * Checks a session's (or a put's) input; returns the part size to use: the caller's (the hash
 * is defined over it, and a record names it) or the store's default.
 */
export function checkSessionInput(
  input: CreateSessionInput,
  defaultPartSize: number,
  range: PartSizeRange = HASH_PART_SIZE_RANGE,
): number {
  assertBlobRef(input);
  checkSize(input.size);
  const partSize = checkPartSize(input.partSize ?? defaultPartSize, range);
  if (input.kind === BlobKind.keyslot && input.size > Math.min(MAX_KEYSLOT_SIZE, partSize)) {
    throw new BlobOptionInvalidError(
      `a key slot of ${String(input.size)} bytes is larger than ${String(Math.min(MAX_KEYSLOT_SIZE, partSize))}`,
      { details: { size: input.size, max: Math.min(MAX_KEYSLOT_SIZE, partSize) } },
    );
  }
  return partSize;
}

/** Checks a part size against a range; returns it. */
export function checkPartSize(
  partSize: number,
  range: PartSizeRange = HASH_PART_SIZE_RANGE,
): number {
  if (!Number.isSafeInteger(partSize) || partSize < range.min || partSize > range.max) {
    throw new BlobOptionInvalidError(
      `part size ${String(partSize)} is not an integer in [${String(range.min)}, ${String(range.max)}]`,
      { details: { partSize, min: range.min, max: range.max } },
    );
  }
  return partSize;
}

/** Checks an announced object size. */
export function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_SIZE) {
    throw new BlobOptionInvalidError(`size ${String(size)} is not an integer in [0, 5 TiB]`, {
      details: { size },
    });
  }
}

/** Checks a part index of a session; returns the exact length that part must have. */
export function checkPartIndex(
  session: { readonly size: number; readonly partSize: number },
  index: number,
): number {
  const count = partCountFor(session.size, session.partSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new BlobPartInvalidError(
      `part index ${String(index)} is outside the session's parts 0..${String(count - 1)}`,
      { details: { reason: 'index', index, partCount: count } },
    );
  }
  return partLengthFor(session.size, index, session.partSize);
}

/** The error for a part body that ended before its length. */
export const partTooShort = (index: number, expected: number, received: number) =>
  new BlobPartInvalidError(
    `part ${String(index)} ended after ${String(received)} of ${String(expected)} bytes`,
    { details: { reason: 'short', index, expected, received } },
  );

/** The error for a part body that ran past its length. */
export const partTooLong = (index: number, expected: number) =>
  new BlobPartInvalidError(`part ${String(index)} runs past its ${String(expected)} bytes`, {
    details: { reason: 'long', index, expected },
  });

/** Checks an optional expected part hash's shape. */
export function checkExpectedPartHash(expectedHash: string | undefined): void {
  if (expectedHash !== undefined && !isBlobHash(expectedHash)) {
    throw new BlobKeyInvalidError('expected part hash is not 128 lowercase hex characters', {
      details: { field: 'expectedHash' },
    });
  }
}

/** Throws BlobHashMismatchError when a part's hash differs from the one the caller expected. */
export function checkPartHash(index: number, actual: string, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected) {
    throw new BlobHashMismatchError(`part ${String(index)} does not hash to the expected hash`, {
      details: { index, part: true },
    });
  }
}

/**
 * The checks of `completeSession` over the stored parts: all present, sizes adding up, and the
 * object hash: the blob hash over the part hashes, or for a key slot its one part's hash. Throws BlobSessionIncompleteError, BlobSizeMismatchError or
 * BlobHashMismatchError.
 */
export function checkCompletion(
  session: {
    readonly kind: BlobKind;
    readonly size: number;
    readonly partSize: number;
    readonly hash: string;
  },
  parts: readonly PartInfo[],
): void {
  const count = partCountFor(session.size, session.partSize);
  const byIndex = new Map(parts.map((p) => [p.index, p]));
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    throw new BlobSessionIncompleteError(
      `${String(missing.length)} of ${String(count)} parts are missing`,
      { details: { missing: missing.slice(0, 1000), partCount: count } },
    );
  }
  let total = 0;
  const hashes: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const part = byIndex.get(i) as PartInfo;
    total += part.size;
    // The empty part of an empty blob is uploaded but contributes no part hash.
    if (part.size > 0) hashes.push(Buffer.from(part.hash, 'hex'));
  }
  if (total !== session.size) {
    throw new BlobSizeMismatchError(
      `parts hold ${String(total)} bytes, the session announced ${String(session.size)}`,
      { details: { expected: session.size, actual: total } },
    );
  }
  if (session.kind === BlobKind.keyslot) {
    // A key slot is one part, and its key is the plain hash of its bytes: that part's hash.
    checkWholeHash((byIndex.get(0) as PartInfo).hash, session.hash);
    return;
  }
  checkWholeHash(
    combinePartHashes(hashes, session.size, session.partSize).toString('hex'),
    session.hash,
  );
}

/** Throws BlobHashMismatchError when the computed blob hash differs from the key's hash. */
export function checkWholeHash(actual: string, expected: string): void {
  if (actual !== expected) {
    throw new BlobHashMismatchError('the bytes do not hash to the object hash', {
      details: { expected },
    });
  }
}

/** Throws BlobSizeMismatchError when a one-shot body's length differs from the announced size. */
export function checkWholeSize(actual: number, expected: number): void {
  if (actual !== expected) {
    throw new BlobSizeMismatchError(
      `received ${actual > expected ? 'more than' : String(actual) + ' of'} ${String(expected)} announced bytes`,
      { details: { expected, actual } },
    );
  }
}

/** Resolves a requested range against an object's size: `{offset, length}` within it. */
export function resolveRange(
  size: number,
  range: ByteRange | undefined,
): { offset: number; length: number } {
  if (range === undefined) return { offset: 0, length: size };
  const { offset } = range;
  const length = range.length ?? size - offset;
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new BlobRangeInvalidError(
      `range offset ${String(offset)} length ${String(range.length)} does not fit ${String(size)} bytes`,
      { details: { offset, length: range.length ?? null, size } },
    );
  }
  return { offset, length };
}

/** Checks a presigned URL lifetime. */
export function checkPresignTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_TTL_SECONDS) {
    throw new BlobOptionInvalidError(
      `presign ttl ${String(ttlSeconds)} s is not an integer in [1, ${String(MAX_PRESIGN_TTL_SECONDS)}]`,
      { details: { ttlSeconds } },
    );
  }
}

const sessionIdPattern = /^[0-9a-f]{32}$/;

/** True for a session id as the adapters make them: 32 lowercase hex characters. */
export const isSessionId = (id: unknown): id is string =>
  typeof id === 'string' && sessionIdPattern.test(id);
