import { blobObjectKey } from '../blobRef.js';
import type { BlobBody, BlobInfo, PutInput } from '../blobStore.js';
import { BlobStoreUnavailableError } from '../errors.js';
import { createObjectHasher, partCountFor, partLengthFor } from '../partHash.js';
import { checkWholeHash, checkWholeSize } from '../uploadRules.js';
import { refOf, type S3Bucket } from './s3Bucket.js';

/**
 * One-shot puts on S3: an object of at most one part in one request with `If-None-Match: *`,
 * a larger one as a multipart upload fed as the body streams. Either way the whole hash and size
 * are checked before anything becomes visible, and an existing object is never replaced.
 */

/** One request: read (at most one part), check, then PUT with If-None-Match. */
export async function putSmall(
  bucket: S3Bucket,
  input: PutInput,
  hashPartSize: number,
  body: BlobBody,
): Promise<BlobInfo> {
  const bytes = await readWhole(body, input.size);
  const hasher = createObjectHasher(input.kind, hashPartSize);
  hasher.update(bytes);
  checkWholeHash(hasher.digestHex(), input.hash);
  const key = blobObjectKey(input);
  // The age reported is this process's clock just before the write (the PUT answer carries no
  // Last-Modified, and a HEAD would double the requests of small puts); `head` and `list`
  // report the server's. A plain PUT, not If-None-Match: an existing object is replaced by
  // these checked bytes, so a damaged one never survives, and its age restarts.
  const createdAt = new Date();
  await bucket.call('put', () =>
    bucket.client.putBytes(bucket.name, key, bytes, {
      'Content-Type': 'application/octet-stream',
    }),
  );
  return { ...refOf(input), size: input.size, createdAt };
}

/**
 * A multipart upload fed part by part as the body streams, `concurrency` parts of `partSize`
 * in flight; the whole hash and size are checked before completion, and any failure aborts
 * the upload, so nothing becomes visible.
 */
export async function putLarge(
  bucket: S3Bucket,
  partSize: number,
  concurrency: number,
  input: PutInput,
  hashPartSize: number,
  body: BlobBody,
): Promise<BlobInfo> {
  const P = partSize;
  const key = blobObjectKey(input);
  const count = partCountFor(input.size, P);
  const uploadId = await bucket.call('put', () =>
    bucket.client.initiateNewMultipartUpload(bucket.name, key, {
      'Content-Type': 'application/octet-stream',
    }),
  );
  const etags: { part: number; etag: string }[] = [];
  const hasher = createObjectHasher(input.kind, hashPartSize);
  const inflight = new Set<Promise<void>>();
  // Part buffers are reused once their upload is answered: memory stays at
  // concurrency + 1 parts whatever the object's size, without waiting for the GC.
  const free: Buffer[] = [];
  const send = async (index: number, buffer: Buffer, length: number): Promise<void> => {
    const bytes = buffer.subarray(0, length);
    const p = bucket
      .call('put', () =>
        bucket.client.uploadPart(
          {
            bucketName: bucket.name,
            objectName: key,
            uploadID: uploadId,
            partNumber: index + 1,
            headers: {},
          },
          bytes,
        ),
      )
      .then((r) => {
        etags.push({ part: index + 1, etag: r.etag });
      });
    p.catch(() => undefined);
    inflight.add(p);
    void p
      .finally(() => {
        inflight.delete(p);
        free.push(buffer);
      })
      .catch(() => undefined);
    while (inflight.size >= concurrency) await Promise.race(inflight);
  };
  try {
    let index = 0;
    let total = 0;
    let buf: Buffer = Buffer.allocUnsafe(P);
    let length = partLengthFor(input.size, 0, P);
    let filled = 0;
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) {
        if (index >= count) checkWholeSize(total + chunk.length - off, input.size);
        const take = Math.min(length - filled, chunk.length - off);
        const piece = chunk.subarray(off, off + take);
        buf.set(piece, filled);
        hasher.update(piece);
        filled += take;
        off += take;
        total += take;
        if (filled === length) {
          await send(index, buf, length);
          index++;
          if (index < count) {
            buf = free.pop() ?? Buffer.allocUnsafe(P);
            length = partLengthFor(input.size, index, P);
            filled = 0;
          }
        }
      }
    }
    checkWholeSize(total, input.size);
    await Promise.all(inflight);
    checkWholeHash(hasher.digestHex(), input.hash);
    // Completed also when the object exists: checked bytes replace it, and its age restarts.
    etags.sort((a, b) => a.part - b.part);
    await bucket.call('put', () =>
      bucket.client.completeMultipartUpload(bucket.name, key, uploadId, etags),
    );
    const stat = await bucket.stat(key, 'put');
    if (!stat) {
      throw new BlobStoreUnavailableError('S3 completed the upload but does not show the object', {
        details: { tenant: input.tenant },
      });
    }
    return bucket.info(input, stat);
  } catch (error) {
    await Promise.allSettled(inflight);
    await bucket.abortUpload(key, uploadId).catch(() => undefined);
    throw error;
  }
}

/** Reads a whole small object of the announced size; a size mismatch is refused. */
async function readWhole(body: BlobBody, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    if (filled + chunk.length > size) checkWholeSize(filled + chunk.length, size);
    bytes.set(chunk, filled);
    filled += chunk.length;
  }
  checkWholeSize(filled, size);
  return bytes;
}
