import { hashLength } from '@ratsfach/kernel';

/**
 * A stream's chain of signed records: how many records it holds and the hash of the last one.
 * Every record names the chain's length (as its sequence) and head (as its previous hash), so
 * a record written against an older head is refused and a stream's records never fork.
 */
export interface Chain {
  readonly length: number;
  readonly head: Uint8Array;
}

/** The chain of a stream without records: length 0, head 64 zero bytes. */
export const emptyChain = (): Chain => ({ length: 0, head: new Uint8Array(hashLength) });

/** The chain after one more record whose hash is `recordHash`. */
export const advanceChain = (chain: Chain, recordHash: Uint8Array): Chain => ({
  length: chain.length + 1,
  head: recordHash,
});
