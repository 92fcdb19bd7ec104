// Downloads through a presigned URL of the real S3 server (Ceph RADOS Gateway), and the commit
// path's checks against what that store holds.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { S3BlobStore } from '@ratsfach/blob-store/s3';
import { ApiProblemError, commitVersionCommand, nextLink } from '@ratsfach/client';
import { commitVersion, contentUrl } from '@ratsfach/api-contract';
import { base64urlDecode } from '@ratsfach/domain';
import { openRecord } from '@ratsfach/crypto';
import { councilWorld } from './helpers/documentWorld.js';

const env = process.env;
const endPoint = env['RATSFACH_TEST_S3_ENDPOINT'];
const port = Number(env['RATSFACH_TEST_S3_PORT']);
const accessKey = env['RATSFACH_TEST_S3_ACCESS_KEY'];
const secretKey = env['RATSFACH_TEST_S3_SECRET_KEY'];
if (!endPoint || !Number.isInteger(port) || !accessKey || !secretKey) {
  throw new Error(
    'RATSFACH_TEST_S3_* is not set: source /work/test-services.env (or start scripts/s3-server.sh)',
  );
}
const bucket = `${env['RATSFACH_TEST_S3_BUCKET_PREFIX'] ?? 'ratsfach-test-'}${randomBytes(6).toString('hex')}`;

t.test('a reader downloads through a presigned URL that lives at most 60 s', async (t) => {
  const { w, alice, bob, epochKey, doc } = await councilWorld(t, () =>
    S3BlobStore.open({ endPoint, port, useSSL: false, accessKey, secretKey, bucket }),
  );
  await w.createDocumentAs(alice, 'council', 'doc1');
  const v1 = await w.prepareVersion(
    alice,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    randomBytes(3000),
  );

  // The same blob and key slot, but a record that signs another size: refused, nothing appended.
  const signed = openRecord(base64urlDecode(v1.body.data.record), 'version').body;
  const lying = commitVersionCommand({
    ...doc,
    committeeId: 'council',
    tenantPosition: w.tenantPosition,
    committeeHead: await w.committeeHead('t1', 'council'),
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    signer: alice.keys.signing,
    link: nextLink(await w.head('document-t1-doc1')),
    version: 1,
    parentVersion: null,
    epoch: 0,
    contentHash: signed.contentHash,
    size: v1.blob.length + 1,
    keySlotHash: signed.keySlotHash,
    encryptedMetadata: signed.encryptedMetadata,
  });
  const refused = await alice.api.call(commitVersion, { params: doc, body: lying }).then(
    () => null,
    (error: unknown) => error,
  );
  t.ok(refused instanceof ApiProblemError && refused.status === 422, 'a size that differs is 422');
  t.equal((refused as ApiProblemError).code, 'RATSFACH_DOCUMENTS_BLOB_MISMATCH');
  t.equal((await w.head('document-t1-doc1')).length, 1, 'nothing was appended');

  await alice.api.call(commitVersion, { params: doc, body: v1.body });
  await w.settled();
  const before = Date.now();
  const presigned = await bob.api.call(contentUrl, { params: { ...doc, version: '1' } });
  t.ok(presigned.url, 'the S3 store presigns');
  const expires = Date.parse(presigned.expiresAt!);
  t.ok(expires - before <= 61_000 && expires > before, 'valid for at most 60 s');
  const fetched = await fetch(presigned.url!);
  t.equal(fetched.status, 200);
  t.same(Buffer.from(await fetched.arrayBuffer()), v1.blob, 'the URL serves the uploaded blob');
  await w.settled();
  const audit = await w.readModel.auditTrail({ tenantId: 't1', subjectKind: 'document' });
  t.equal(
    audit.entries.filter((e) => e.type === 'DocumentDelivered').length,
    1,
    'the presigned download is recorded as a delivery',
  );
});
