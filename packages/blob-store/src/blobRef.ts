import { isValidId } from '@ratsfach/kernel';
import { BlobKeyInvalidError } from './errors.js';

/**
 * The two kinds of objects: `blob` holds encrypted content (immutable, removed only by the
 * garbage collector); `keyslot` holds a small wrapped content key that is deleted to erase a
 * document (crypto-shredding).
 */
export const BlobKind = { blob: 'blob', keyslot: 'keyslot' } as const;
export type BlobKind = (typeof BlobKind)[keyof typeof BlobKind];

/** The key of an object: its tenant's namespace, its kind and its hash. */
export interface BlobRef {
  readonly tenant: string;
  readonly kind: BlobKind;
  /** The part-wise BLAKE2b-512 hash (see partHash.ts): 128 lowercase hex characters. */
  readonly hash: string;
}

const hashPattern = /^[0-9a-f]{128}$/;

/** True for a blob hash: exactly 128 lowercase hex characters. */
export const isBlobHash = (hash: unknown): hash is string =>
  typeof hash === 'string' && hashPattern.test(hash);

/** True for one of the object kinds. */
export const isBlobKind = (kind: unknown): kind is BlobKind =>
  kind === BlobKind.blob || kind === BlobKind.keyslot;

/** Checks a tenant id; throws BlobKeyInvalidError RATSFACH_BLOB_KEY_INVALID. */
export function assertTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !isValidId(tenant)) {
    throw new BlobKeyInvalidError(`tenant ${JSON.stringify(tenant)} is not a valid id`, {
      details: { field: 'tenant' },
    });
  }
}

/** Checks a kind; throws BlobKeyInvalidError RATSFACH_BLOB_KEY_INVALID. */
export function assertKind(kind: unknown): asserts kind is BlobKind {
  if (!isBlobKind(kind)) {
    throw new BlobKeyInvalidError(`kind ${JSON.stringify(kind)} is neither blob nor keyslot`, {
      details: { field: 'kind' },
    });
  }
}

/**
 * Checks every field of a ref, so that no malformed or foreign key ever reaches a backend
 * (no path traversal, no other tenant's prefix); throws BlobKeyInvalidError.
 */
export function assertBlobRef(ref: BlobRef): void {
  assertTenant(ref.tenant);
  assertKind(ref.kind);
  const hash: unknown = ref.hash;
  if (!isBlobHash(hash)) {
    throw new BlobKeyInvalidError('hash is not 128 lowercase hex characters', {
      details: { field: 'hash', length: typeof hash === 'string' ? hash.length : null },
    });
  }
}

/** The object key used by every adapter: `<tenant>/<kind>/<aa>/<bb>/<hash>`. */
export const blobObjectKey = (ref: BlobRef): string =>
  `${ref.tenant}/${ref.kind}/${ref.hash.slice(0, 2)}/${ref.hash.slice(2, 4)}/${ref.hash}`;
