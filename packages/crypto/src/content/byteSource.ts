import { CryptoErrorCode, CryptoValidationError } from '../errors.js';

/**
 * Where bytes come from: an async iterable (a Node stream, a fetch body in most runtimes), a
 * plain iterable (an array of chunks), or a Web ReadableStream (browsers where it is not
 * async-iterable yet).
 */
export type ByteSource =
  AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

const isReadableStream = (source: ByteSource): source is ReadableStream<Uint8Array> =>
  typeof (source as ReadableStream<Uint8Array>).getReader === 'function' &&
  !(Symbol.asyncIterator in source);

async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** One async iterator over any ByteSource. */
export const byteIterator = (
  source: ByteSource,
): AsyncIterator<Uint8Array> | Iterator<Uint8Array> => {
  if (isReadableStream(source)) return readableToIterable(source)[Symbol.asyncIterator]();
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return (source as Iterable<Uint8Array>)[Symbol.iterator]();
};

/**
 * Reads fixed-size records out of chunks of any size. A record that spans pieces is copied into
 * a buffer the reader owns (two alternate); one inside a single piece is handed out as a view of
 * it unless `copyAlways`. A caller must be done with a record before its next read.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private piece: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private ended = false;
  private readonly buffers: [Uint8Array, Uint8Array];
  private which = 0;

  /**
   * `copyAlways`: copy even where a view would do, for a caller that keeps a record across
   * the next read (the encryptor's look-ahead), since the producer may then reuse its buffer.
   */
  constructor(
    source: ByteSource,
    recordSize: number,
    private readonly copyAlways = false,
  ) {
    this.iterator = byteIterator(source);
    this.buffers = [new Uint8Array(recordSize), new Uint8Array(recordSize)];
  }

  /**
   * The next `length` bytes (at most the record size), fewer only where the source ends; an
   * empty array at the end.
   */
  async read(length: number): Promise<Uint8Array> {
    // Fast path: the current piece holds the whole record, hand out a view of it. Only valid
    // until the next read, which is all the contract promises.
    if (this.piece.length - this.offset >= length && !this.copyAlways) {
      const view = this.piece.subarray(this.offset, this.offset + length);
      this.offset += length;
      return view;
    }
    const out = this.buffers[this.which] as Uint8Array;
    this.which ^= 1;
    let filled = 0;
    while (filled < length) {
      if (this.offset === this.piece.length) {
        if (this.ended) break;
        const next = await this.iterator.next();
        if (next.done === true) {
          this.ended = true;
          break;
        }
        if (!(next.value instanceof Uint8Array)) {
          throw new CryptoValidationError(
            CryptoErrorCode.invalidArgument,
            'a byte source yielded something other than a Uint8Array',
            { hint: 'Pass an iterable or stream of Uint8Array (or Buffer) chunks.' },
          );
        }
        this.piece = next.value;
        this.offset = 0;
        continue;
      }
      const take = Math.min(length - filled, this.piece.length - this.offset);
      out.set(this.piece.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
    }
    return out.subarray(0, filled);
  }

  /** Stops the source early (after an error), so a file or connection is released. */
  async close(): Promise<void> {
    this.ended = true;
    await this.iterator.return?.();
  }
}

/**
 * A Web ReadableStream over an async iterable of bytes (such as encryptContent's output), for
 * `fetch` upload bodies and browser APIs; pulling drives the iterable, cancelling closes it.
 */
export const toReadableStream = (bytes: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> => {
  const iterator = bytes[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
};
