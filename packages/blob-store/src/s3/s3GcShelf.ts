import type { GcRecordShelf } from '../blobGcLedger.js';
import { missing, notFoundCodes, readAll, type S3Bucket } from './s3Bucket.js';

const GC = '.gc';

/**
 * The collector's marks and the commit path's reservations as small JSON objects under `.gc/`
 * in the bucket: every API process and the collector see the same ones (S3 reads see every
 * write that finished before them).
 */
export class S3GcShelf implements GcRecordShelf {
  readonly #bucket: S3Bucket;

  constructor(bucket: S3Bucket) {
    this.#bucket = bucket;
  }

  async put(key: string, value: unknown): Promise<void> {
    const b = this.#bucket;
    const body = Buffer.from(JSON.stringify(value));
    await b.call('gc', () =>
      b.client.putObject(b.name, `${GC}/${key}`, body, body.length, {
        'Content-Type': 'application/json',
      }),
    );
  }

  async get(key: string): Promise<unknown> {
    const b = this.#bucket;
    const body = await b.callOrMissing('gc', notFoundCodes, async () =>
      readAll(await b.client.getObject(b.name, `${GC}/${key}`)),
    );
    if (body === missing) return undefined;
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    const b = this.#bucket;
    await b.callOrMissing('gc', notFoundCodes, () => b.client.removeObject(b.name, `${GC}/${key}`));
  }

  async *list(prefix: string): AsyncIterable<{ key: string; value: unknown }> {
    for await (const k of this.#bucket.keys(`${GC}/${prefix}/`)) {
      const key = k.name.slice(GC.length + 1);
      const value = await this.get(key);
      if (value !== undefined) yield { key, value };
    }
  }
}
