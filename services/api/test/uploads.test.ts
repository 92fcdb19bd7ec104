import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsBlobStore } from '@ratsfach/blob-store/fs';
import {
  blobHash,
  createLoginProof,
  cryptoReady,
  fingerprint,
  generateSigningKeyPair,
  sodium,
} from '@ratsfach/crypto';
import type { EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { SqliteServiceState } from '../src/state/sqliteServiceState.js';
import { buildTestApp } from './helpers/buildTestApp.js';

await cryptoReady();
const partSize = 1024;

const setup = async (t: Parameters<typeof buildTestApp>[0]) => {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-uploads-'));
  const blobStore = await FsBlobStore.open({ root: dir, partSize, sweepIntervalMs: 0 });
  t.teardown(async () => {
    await blobStore.close();
    await rm(dir, { recursive: true, force: true });
  });
  const keys = generateSigningKeyPair();
  const readModel = {
    deviceStanding: async (tenantId: string, deviceId: string) => ({
      tenantId,
      userId: 'u1',
      deviceId,
      admin: false,
      fingerprint: fingerprint(keys.publicKey),
      notBefore: 0,
      notAfter: 4_000_000_000,
      revoked: false,
      certifiedAt: 1n,
      revokedAt: null,
    }),
    memberships: async (tenantId: string, userId: string) => [
      { tenantId, userId, committeeId: 'c1', role: 'staff', effective: true },
      { tenantId, userId, committeeId: 'c2', role: 'reader', effective: true },
      { tenantId, userId, committeeId: 'c3', role: 'staff', effective: false },
    ],
  } as unknown as ReadModelStore;
  const serviceState = SqliteServiceState.open(':memory:');
  t.teardown(() => serviceState.close());
  const app = await buildTestApp(t, {
    readModel,
    // The upload routes use the blob store and the session owners only.
    stores: { blobStore, eventStore: {} as EventStore },
    serviceState,
  });
  const tokenFor = async (tenantId: string) => {
    const { challengeId, challenge } = (
      await app.inject({
        method: 'POST',
        url: `/v1/tenants/${tenantId}/login/challenge`,
        payload: { deviceId: 'd1' },
      })
    ).json();
    const proof = createLoginProof(
      { tenantId, deviceId: 'd1', challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) },
      keys,
    );
    return (
      await app.inject({
        method: 'POST',
        url: `/v1/tenants/${tenantId}/login`,
        payload: { deviceId: 'd1', challengeId, proof: Buffer.from(proof).toString('base64url') },
      })
    ).json().token as string;
  };
  return { app, blobStore, t1: await tokenFor('t1'), t2: await tokenFor('t2') };
};

const multipartBody = (field: string, bytes: Uint8Array) => {
  const boundary = `----ratsfach${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="part"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.from(bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
};

const hexHash = (data: Uint8Array) => sodium().to_hex(blobHash(data, partSize).hash);

const as = (token: string) => ({ authorization: `Bearer ${token}` });

const create = (app: FastifyInstance, token: string, body: object, tenant = 't1') =>
  app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenant}/uploads`,
    headers: as(token),
    payload: { committeeId: 'c1', ...body },
  });

const putPart = (
  app: FastifyInstance,
  token: string,
  sessionId: string,
  index: number | string,
  bytes: Uint8Array,
  field = 'part',
  tenant = 't1',
) => {
  const { payload, headers } = multipartBody(field, bytes);
  return app.inject({
    method: 'PUT',
    url: `/v1/tenants/${tenant}/uploads/${sessionId}/parts/${index}`,
    headers: { ...as(token), ...headers },
    payload,
  });
};

t.test('uploads a blob part by part, resumes from the part list, and completes', async (t) => {
  const { app, blobStore, t1 } = await setup(t);
  const data = new Uint8Array(randomBytes(2 * partSize + 100));
  const hash = hexHash(data);
  const created = await create(app, t1, { kind: 'blob', hash, size: data.length });
  t.equal(created.statusCode, 201);
  const session = created.json();
  t.same(
    { ...session, sessionId: undefined },
    { sessionId: undefined, kind: 'blob', hash, size: data.length, partSize, partCount: 3 },
  );
  const part = (i: number) =>
    data.subarray(i * partSize, Math.min(data.length, (i + 1) * partSize));
  t.equal((await putPart(app, t1, session.sessionId, 2, part(2))).statusCode, 200, 'any order');
  const first = await putPart(app, t1, session.sessionId, 0, part(0));
  t.equal(first.statusCode, 200);
  t.same({ index: first.json().index, size: first.json().size }, { index: 0, size: partSize });
  const listed = await app.inject({
    method: 'GET',
    url: `/v1/tenants/t1/uploads/${session.sessionId}/parts`,
    headers: as(t1),
  });
  t.same(
    listed.json().parts.map((p: { index: number }) => p.index),
    [0, 2],
    'what a resume still has to send',
  );
  const early = await app.inject({
    method: 'POST',
    url: `/v1/tenants/t1/uploads/${session.sessionId}/complete`,
    headers: as(t1),
  });
  t.equal(early.statusCode, 409, 'incomplete');
  t.match(early.json().code, /^RATSFACH_BLOB_/);
  t.equal(await blobStore.head({ tenant: 't1', kind: 'blob', hash }), null, 'nothing visible yet');
  t.equal((await putPart(app, t1, session.sessionId, 1, part(1))).statusCode, 200);
  const done = await app.inject({
    method: 'POST',
    url: `/v1/tenants/t1/uploads/${session.sessionId}/complete`,
    headers: as(t1),
  });
  t.equal(done.statusCode, 200);
  t.same(done.json(), { kind: 'blob', hash, size: data.length });
  const stored = await blobStore.get({ tenant: 't1', kind: 'blob', hash });
  const chunks: Buffer[] = [];
  for await (const chunk of stored.body) chunks.push(chunk as Buffer);
  t.ok(Buffer.concat(chunks).equals(Buffer.from(data)), 'the stored bytes are the uploaded ones');
});

t.test('refuses bad parts with typed problems and keeps them absent', async (t) => {
  const { app, t1 } = await setup(t);
  const data = new Uint8Array(randomBytes(partSize + 10));
  const { sessionId } = (
    await create(app, t1, { kind: 'blob', hash: hexHash(data), size: data.length })
  ).json();
  const tooLong = await putPart(app, t1, sessionId, 0, new Uint8Array(partSize + 50));
  t.equal(tooLong.statusCode, 400, 'a part over the part size');
  t.match(tooLong.json().code, /^RATSFACH_BLOB_/);
  const short = await putPart(app, t1, sessionId, 0, data.subarray(0, 10));
  t.equal(short.statusCode, 400, 'a part that ends early');
  t.match(short.json().code, /^RATSFACH_BLOB_/);
  const outOfRange = await putPart(app, t1, sessionId, 5, data.subarray(0, 10));
  t.equal(outOfRange.statusCode, 400, 'an index past the last part');
  const notANumber = await putPart(app, t1, sessionId, '01', data.subarray(0, 10));
  t.equal(notANumber.statusCode, 400);
  t.equal(notANumber.json().code, ApiErrorCode.requestInvalid);
  const wrongField = await putPart(app, t1, sessionId, 0, data.subarray(0, partSize), 'other');
  t.equal(wrongField.statusCode, 400);
  const json = await app.inject({
    method: 'PUT',
    url: `/v1/tenants/t1/uploads/${sessionId}/parts/0`,
    headers: as(t1),
    payload: { part: 'x' },
  });
  t.equal(json.statusCode, 415, `only multipart is accepted for parts (${json.body})`);
  const listed = await app.inject({
    method: 'GET',
    url: `/v1/tenants/t1/uploads/${sessionId}/parts`,
    headers: as(t1),
  });
  t.same(listed.json().parts, [], 'no refused part is stored');
  const badCreate = await create(app, t1, { kind: 'blob', hash: 'ab', size: -1 });
  t.equal(badCreate.statusCode, 400);
  t.equal(badCreate.json().code, ApiErrorCode.requestInvalid);
});

t.test(
  "another tenant's token cannot see or touch a session, not even that it exists",
  async (t) => {
    const { app, t1, t2 } = await setup(t);
    const data = new Uint8Array(randomBytes(100));
    const { sessionId } = (
      await create(app, t1, { kind: 'keyslot', hash: hexHash(data), size: data.length })
    ).json();
    const unknownSession = await app.inject({
      method: 'GET',
      url: `/v1/tenants/t2/uploads/nosuch/parts`,
      headers: as(t2),
    });
    const foreignSession = await app.inject({
      method: 'GET',
      url: `/v1/tenants/t2/uploads/${sessionId}/parts`,
      headers: as(t2),
    });
    t.equal(foreignSession.statusCode, 404);
    t.equal(
      foreignSession.json().code,
      unknownSession.json().code,
      'the same as a session that does not exist',
    );
    const put = await putPart(app, t2, sessionId, 0, data, 'part', 't2');
    t.equal(put.statusCode, 404);
    const crossed = await putPart(app, t2, sessionId, 0, data, 'part', 't1');
    t.equal(crossed.statusCode, 401, "t2's token at t1's path");
    const listed = await app.inject({
      method: 'GET',
      url: `/v1/tenants/t1/uploads/${sessionId}/parts`,
      headers: as(t1),
    });
    t.same(listed.json().parts, [], 'nothing was written into it');
  },
);

t.test('only a writer (effective staff) of the committee starts an upload', async (t) => {
  const { app, blobStore, t1 } = await setup(t);
  const data = new Uint8Array(randomBytes(100));
  const body = { kind: 'blob', hash: hexHash(data), size: data.length };
  for (const [committeeId, why] of [
    ['c2', 'a reader'],
    ['c3', 'a staff member whose addition is not co-signed yet'],
    ['c9', 'a non-member'],
  ] as const) {
    const refused = await create(app, t1, { ...body, committeeId });
    t.equal(refused.statusCode, 403, `${why} is refused`);
    t.equal(refused.json().code, 'RATSFACH_DOCUMENTS_NOT_WRITER');
  }
  const sessions = [];
  for await (const session of blobStore.listSessions('t1')) sessions.push(session);
  t.same(sessions, [], 'no session was started by a refused request');
  const missing = await app.inject({
    method: 'POST',
    url: '/v1/tenants/t1/uploads',
    headers: as(t1),
    payload: body,
  });
  t.equal(missing.statusCode, 400, 'the committee is required');
});
