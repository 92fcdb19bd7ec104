/** Length of every hash in ratsfach: BLAKE2b-512. */
export const hashLength = 64;

/**
 * The head of a stream's chain of signed records: how many records it holds and the hash of
 * the last one. Every record names the chain's length (as its sequence) and head (as its
 * previous hash), so a record written against an older head is refused and a chain never forks.
 * Records that name another chain's head (a document record's `committeeHead`, a device's
 * heads-seen) carry exactly these two fields.
 */
export interface ChainHead {
  /** Number of records in the chain (the next record's sequence). */
  readonly length: number;
  /** Hash of the chain's last record; 64 zero bytes when empty. */
  readonly hash: Uint8Array;
}

/** The head of a chain without records: length 0, hash 64 zero bytes. */
export const emptyChainHead = (): ChainHead => ({ length: 0, hash: new Uint8Array(hashLength) });

/** The head after one more record whose hash is `recordHash`. */
export const advanceChainHead = (head: ChainHead, recordHash: Uint8Array): ChainHead => ({
  length: head.length + 1,
  hash: recordHash,
});
