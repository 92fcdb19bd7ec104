import type { ChainHead, SeenHead } from '@ratsfach/kernel';
import { toBase32 } from '../codec/base32.js';
import { ByteWriter } from '../codec/byteWriter.js';
import { ChainError, CryptoErrorCode, ForkError } from '../errors.js';
import { constantTimeEqual, hash512 } from '../hash.js';

/**
 * The last head a device saw of every chain, with the hashes of the chain up to it. A head that
 * does not extend the last one is refused: shorter is a rollback (ChainError `rollback`), the
 * same position with another hash is a fork (ForkError).
 */
export class SeenHeads {
  private readonly chains = new Map<string, readonly Uint8Array[]>();

  /** Restores what `toStored` returned (the device keeps it between runs). */
  static restore(stored: Readonly<Record<string, readonly Uint8Array[]>>): SeenHeads {
    const seen = new SeenHeads();
    for (const [stream, hashes] of Object.entries(stored)) seen.chains.set(stream, [...hashes]);
    return seen;
  }

  /** The hashes of every chain seen, by stream, for the device to store. */
  toStored(): Record<string, Uint8Array[]> {
    return Object.fromEntries([...this.chains].map(([stream, hashes]) => [stream, [...hashes]]));
  }

  /** The last head seen of `stream`, if any. */
  head(stream: string): ChainHead | undefined {
    const hashes = this.chains.get(stream);
    if (hashes === undefined) return undefined;
    return { length: hashes.length, hash: hashes[hashes.length - 1] ?? new Uint8Array(64) };
  }

  /** Every head seen, sorted by stream name. */
  heads(): SeenHead[] {
    return [...this.chains.keys()].sort().map((stream) => ({
      stream,
      ...(this.head(stream) as ChainHead),
    }));
  }

  /**
   * Accepts a verified chain (hashes by position, from `linkChain`) if it extends the last head
   * seen of `stream`, and remembers it.
   */
  accept(stream: string, hashes: readonly Uint8Array[]): void {
    const known = this.chains.get(stream);
    if (known !== undefined) {
      if (hashes.length < known.length) {
        throw new ChainError(
          CryptoErrorCode.rollback,
          `${stream}: offered ${hashes.length} records, this device already saw ${known.length}`,
          {
            hint: 'The server replayed an older head (rollback); keep the newer state.',
            details: { stream, offered: hashes.length, seen: known.length },
          },
        );
      }
      if (
        known.length > 0 &&
        !constantTimeEqual(
          hashes[known.length - 1] as Uint8Array,
          known[known.length - 1] as Uint8Array,
        )
      ) {
        throw new ForkError(
          `${stream}: the offered chain does not extend the head this device saw`,
          {
            details: { stream, position: known.length - 1 },
          },
        );
      }
    }
    this.chains.set(stream, [...hashes]);
  }

  /**
   * Checks another device's seen heads against this device's chains. Throws ForkError when a
   * head of one chain does not extend ours and ours does not extend it. Returns the heads that
   * are ahead of this device (sync, then check again).
   */
  compare(theirs: readonly SeenHead[]): SeenHead[] {
    const ahead: SeenHead[] = [];
    for (const head of theirs) {
      const mine = this.chains.get(head.stream);
      if (mine === undefined) {
        ahead.push(head);
        continue;
      }
      if (head.length > mine.length) {
        ahead.push(head);
        continue;
      }
      const expected = head.length === 0 ? new Uint8Array(64) : mine[head.length - 1];
      if (!constantTimeEqual(expected as Uint8Array, head.hash)) {
        throw new ForkError(
          `${head.stream}: another device saw a head at position ${head.length} that is not in this device's chain`,
          { details: { stream: head.stream, position: head.length } },
        );
      }
    }
    return ahead;
  }
  /**
   * Settles a head another device saw that is ahead of this device: `hashes` is the chain the
   * server now serves (verified with `linkChain`). It must contain that head and extend this
   * device's own; otherwise the two devices were shown different histories (ForkError).
   */
  confirm(head: SeenHead, hashes: readonly Uint8Array[]): void {
    const at = hashes[head.length - 1];
    if (head.length > 0 && (at === undefined || !constantTimeEqual(at, head.hash))) {
      throw new ForkError(
        `${head.stream}: the served chain does not contain the head another device saw at position ${head.length}`,
        { details: { stream: head.stream, position: head.length } },
      );
    }
    this.accept(head.stream, hashes);
  }
}

/**
 * A short code of a set of heads that people can compare at a meeting: BLAKE2b-512 over the
 * heads sorted by stream, first 50 bits as base32 in two groups (`ABCDE-FGHIJ`).
 */
export function headsCode(heads: readonly SeenHead[]): string {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('ratsfach/v1/heads-code'));
  const sorted = [...heads].sort((a, b) =>
    a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0,
  );
  for (const head of sorted) {
    const stream = new TextEncoder().encode(head.stream);
    w.u16(stream.length);
    w.bytes(stream);
    w.u64(head.length);
    w.bytes(head.hash);
  }
  const code = toBase32(hash512(w.finish()).subarray(0, 7)).slice(0, 10);
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
