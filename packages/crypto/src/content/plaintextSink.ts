import { CryptoErrorCode, CryptoValidationError } from '../errors.js';

/**
 * Where decrypted plaintext goes, so that none of a failing stream reaches the user's files.
 *
 * The contract: `write` puts each chunk somewhere the user cannot see (a temporary file next to
 * the target, a buffer); `commit` is called once, only after the whole stream and every hash
 * and size were verified, and makes the result visible (rename the temporary file into place);
 * `abort` is called once instead, on any failure, and must delete what was written. Exactly one
 * of `commit` or `abort` is called, and no `write` follows it.
 */
export interface PlaintextSink {
  write(chunk: Uint8Array): void | Promise<void>;
  commit(): void | Promise<void>;
  abort(reason: unknown): void | Promise<void>;
}

const misuse = (what: string): CryptoValidationError =>
  new CryptoValidationError(CryptoErrorCode.invalidArgument, `MemorySink: ${what}`, {
    hint: 'Read a MemorySink only after the decryption that fills it resolved.',
  });

/**
 * A sink that keeps the plaintext in memory and hands it out only after `commit`: for small
 * objects and tests. Reading `bytes()` before commit, or after abort, throws.
 */
export class MemorySink implements PlaintextSink {
  private chunks: Uint8Array[] = [];
  private state: 'open' | 'committed' | 'aborted' = 'open';
  private result: Uint8Array | undefined;

  write(chunk: Uint8Array): void {
    if (this.state !== 'open') throw misuse('write after commit or abort');
    this.chunks.push(chunk);
  }

  commit(): void {
    if (this.state !== 'open') throw misuse('commit after commit or abort');
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    this.chunks = [];
    this.result = out;
    this.state = 'committed';
  }

  abort(): void {
    this.chunks = [];
    this.state = 'aborted';
  }

  /** Whether commit, abort or neither happened. */
  get status(): 'open' | 'committed' | 'aborted' {
    return this.state;
  }

  /** The committed plaintext. */
  bytes(): Uint8Array {
    if (this.result === undefined) throw misuse(`nothing committed (${this.state})`);
    return this.result;
  }
}

/**
 * Writes `plaintext` into `sink`; runs `beforeCommit` (further checks) after the last chunk;
 * commits only if everything succeeded, else aborts and rethrows. Returns the plaintext size.
 */
export const pipeToSink = async (
  plaintext: AsyncIterable<Uint8Array>,
  sink: PlaintextSink,
  beforeCommit?: () => void | Promise<void>,
): Promise<number> => {
  let size = 0;
  try {
    for await (const chunk of plaintext) {
      await sink.write(chunk);
      size += chunk.length;
    }
    await beforeCommit?.();
  } catch (error) {
    await sink.abort(error);
    throw error;
  }
  await sink.commit();
  return size;
};
