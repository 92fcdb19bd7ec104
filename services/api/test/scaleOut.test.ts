// Scale-out, as an operator runs it: two API processes and one projector process on PostgreSQL
// (throw-away schemas) and the Ceph RADOS Gateway (a throw-away bucket). A device connected to
// the first API is told over its event stream about a version committed through the second,
// downloads it through the presigned URL, verifies and decrypts it; the first API's LISTEN
// connection is killed by the server and the next version still reaches the device.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import {
  MemorySink,
  createLoginProof,
  fingerprint,
  openRecord,
  openVersionContent,
  unwrapEpochKey,
} from '@ratsfach/crypto';
import { ApiClient } from '@ratsfach/client';
import {
  contentUrl,
  documentRecords,
  fetchKeySlots,
  getSession,
  login,
  manifestDelta,
  requestLoginChallenge,
} from '@ratsfach/api-contract';
import { S3BlobStore } from '@ratsfach/blob-store/s3';
import { base64urlDecode, decodeEvent } from '@ratsfach/domain';
import { openPostgresEventStore } from '@ratsfach/event-store/postgres';
import { openPostgresReadModelStore } from '@ratsfach/read-model/postgres';
import { councilWorld, type WorldDevice } from './helpers/documentWorld.js';

const env = process.env;
const pgUrl = env['RATSFACH_TEST_PG_URL'];
const s3 = {
  endPoint: env['RATSFACH_TEST_S3_ENDPOINT'] ?? '',
  port: Number(env['RATSFACH_TEST_S3_PORT']),
  accessKey: env['RATSFACH_TEST_S3_ACCESS_KEY'] ?? '',
  secretKey: env['RATSFACH_TEST_S3_SECRET_KEY'] ?? '',
};
if (!pgUrl || !s3.endPoint || !Number.isInteger(s3.port) || !s3.accessKey || !s3.secretKey) {
  throw new Error(
    'RATSFACH_TEST_PG_URL / RATSFACH_TEST_S3_* are not set: source /work/test-services.env',
  );
}
const root = resolve(import.meta.dirname, '../../..');

const admin = async (sql: string, params: unknown[] = []) => {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
};

/** Starts `src/main.ts` of a service as its own process, as `npm run up` would. */
async function startProcess(
  t: Test,
  service: string,
  vars: Record<string, string>,
  ready: RegExp | null,
) {
  const child: ChildProcess = spawn(
    'bash',
    [join(root, 'scripts/run-ts.sh'), join(root, `services/${service}/src/main.ts`)],
    {
      env: { ...process.env, RATSFACH_LOG_LEVEL: 'info', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const deadline = Date.now() + 240_000;
  for (;;) {
    const match = ready === null ? [] : ready.exec(output);
    if (match) return { child, match, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${service} did not start: ${output}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** Reads a device's event stream (server-sent events) and keeps what arrives. */
async function openStream(baseUrl: string, device: WorldDevice) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/tenants/${device.tenantId}/events`, {
    headers: { authorization: `Bearer ${device.token}` },
    signal: controller.signal,
  });
  const events: { id: string; event: string }[] = [];
  const pump = (async () => {
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += Buffer.from(chunk).toString('utf8');
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const fields = Object.fromEntries(
            buffer
              .slice(0, cut)
              .split('\n')
              .filter((line) => line.includes(': ') && !line.startsWith(':'))
              .map((line) => [
                line.slice(0, line.indexOf(': ')),
                line.slice(line.indexOf(': ') + 2),
              ]),
          ) as Record<string, string>;
          buffer = buffer.slice(cut + 2);
          if (fields['event']) events.push({ id: fields['id'] ?? '', event: fields['event'] });
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  t.teardown(async () => {
    controller.abort();
    await pump;
  });
  const next = async (predicate: (e: { id: string; event: string }) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) return undefined;
      await new Promise((done) => setTimeout(done, 10));
    }
  };
  return { status: response.status, events, next };
}

t.test(
  'two API processes and a projector on PostgreSQL and S3: push, download, decrypt',
  async (t) => {
    const id = randomBytes(5).toString('hex');
    const schemas = {
      RATSFACH_EVENT_STORE_SCHEMA: `so_ev_${id}`,
      RATSFACH_READ_MODEL_SCHEMA: `so_rm_${id}`,
      RATSFACH_SERVICE_STATE_SCHEMA: `so_st_${id}`,
    };
    t.teardown(async () => {
      for (const schema of Object.values(schemas)) {
        await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });
    const bucket = `${env['RATSFACH_TEST_S3_BUCKET_PREFIX'] ?? 'ratsfach-test-'}${id}`;

    // The test's own connections, for the world's setup (what admin devices would do first).
    const eventStore = await openPostgresEventStore({
      connection: { connectionString: pgUrl, max: 4 },
      schema: schemas.RATSFACH_EVENT_STORE_SCHEMA,
    });
    const readModel = await openPostgresReadModelStore({
      connection: { connectionString: pgUrl, max: 2 },
      schema: schemas.RATSFACH_READ_MODEL_SCHEMA,
    });
    const blobStore = await S3BlobStore.open({ ...s3, useSSL: false, bucket });
    t.teardown(async () => {
      await blobStore.close();
      await readModel.close();
      await eventStore.close();
    });

    const projector = await startProcess(
      t,
      'projector',
      {
        ...schemas,
        RATSFACH_EVENT_STORE: 'postgres',
        RATSFACH_READ_MODEL: 'postgres',
        RATSFACH_DATABASE_URL: pgUrl,
      },
      null,
    );
    const apiVars = {
      ...schemas,
      RATSFACH_MODE: 'scale-out',
      RATSFACH_PORT: '0',
      RATSFACH_DATABASE_URL: pgUrl,
      RATSFACH_S3_ENDPOINT: s3.endPoint,
      RATSFACH_S3_PORT: String(s3.port),
      RATSFACH_S3_USE_SSL: 'false',
      RATSFACH_S3_BUCKET: bucket,
      RATSFACH_S3_ACCESS_KEY: s3.accessKey,
      RATSFACH_S3_SECRET_KEY: s3.secretKey,
      // Nothing of this run may land in a data directory: point it where nothing can be written.
      RATSFACH_DATA_DIR: '/nonexistent/ratsfach-scale-out',
    };
    const ready = /listening on (http:\/\/\S+) \(scale-out\)/;
    const [first, second] = await Promise.all([
      startProcess(t, 'api', apiVars, ready),
      startProcess(t, 'api', apiVars, ready),
    ]);
    const api1 = first.match[1]!;
    const api2 = second.match[1]!;
    t.not(api1, api2, 'two processes');

    // The world's devices log in through the second API; bob logs in again at the first.
    const { w, alice, bob, epochKey } = await councilWorld(t, undefined, {
      eventStore,
      readModel,
      blobStore,
      baseUrl: api2,
    });
    bob.token = await w.loginAt(bob, api1);
    bob.api = new ApiClient({ baseUrl: api1, token: bob.token });

    // Service state is shared: a challenge issued by one process is taken by the other, once;
    // a token issued by one is honoured by the other.
    const challenge = await new ApiClient({ baseUrl: api1 }).call(requestLoginChallenge, {
      params: { tenantId: 't1' },
      body: { deviceId: 'b1' },
    });
    const loginBody = {
      deviceId: 'b1',
      challengeId: challenge.challengeId,
      proof: Buffer.from(
        createLoginProof(
          {
            tenantId: 't1',
            deviceId: 'b1',
            challenge: base64urlDecode(challenge.challenge),
          },
          bob.keys.signing,
        ),
      ).toString('base64url'),
    };
    const session = await new ApiClient({ baseUrl: api2 }).call(login, {
      params: { tenantId: 't1' },
      body: loginBody,
    });
    const replayed = await new ApiClient({ baseUrl: api1 })
      .call(login, { params: { tenantId: 't1' }, body: loginBody })
      .then(
        () => null,
        (error: unknown) => error,
      );
    t.equal((replayed as { status?: number } | null)?.status, 401, 'the used challenge is gone');
    const elsewhere = await new ApiClient({ baseUrl: api1, token: session.token }).call(
      getSession,
      {
        params: { tenantId: 't1' },
      },
    );
    t.equal(elsewhere.deviceId, 'b1', 'a token from the second API works at the first');

    const stream = await openStream(api1, bob);
    t.equal(stream.status, 200);
    t.ok(await stream.next((e) => e.event === 'ready'), 'the stream on the first API is open');

    await w.createDocumentAs(alice, 'council', 'doc1');
    const plaintext = randomBytes(70_000);
    const v1 = await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, plaintext);
    const told = await stream.next(
      (e) => e.event === 'feeds' && BigInt(e.id) >= BigInt(v1.committed.position),
    );
    t.ok(told, 'the first API tells bob of a version committed through the second');

    // What a device does next: the delta, the records, the key slot, the presigned download.
    const delta = await bob.api.call(manifestDelta, { params: { tenantId: 't1' } });
    t.ok(
      delta.entries.some((e) => e.documentId === 'doc1' && e.type === 'VersionCommitted'),
      'the delta has the version',
    );
    const records = await bob.api.call(documentRecords, {
      params: { tenantId: 't1', documentId: 'doc1' },
    });
    const version = openRecord(base64urlDecode(records.records.at(-1)!.record), 'version');
    t.equal(
      version.signerFingerprint,
      fingerprint(alice.keys.signing.publicKey),
      "verified: alice's device signed it",
    );
    const slots = await bob.api.call(fetchKeySlots, {
      params: { tenantId: 't1' },
      body: { slots: [{ documentId: 'doc1', version: 1 }] },
    });
    const presigned = await bob.api.call(contentUrl, {
      params: { tenantId: 't1', documentId: 'doc1', version: '1' },
    });
    t.ok(presigned.url?.startsWith(`http://${s3.endPoint}:${s3.port}/${bucket}/`), 'an S3 URL');
    const fetched = await fetch(presigned.url!);
    t.equal(fetched.status, 200);
    const blob = new Uint8Array(await fetched.arrayBuffer());

    let epochRecord: Uint8Array | undefined;
    for await (const recorded of eventStore.readStream('committee-t1-council')) {
      const event = decodeEvent(recorded);
      if (event.type === 'KeyEpochStarted') epochRecord = event.data.record;
    }
    const epoch = openRecord(epochRecord!, 'key-epoch');
    const me = fingerprint(bob.keys.signing.publicKey);
    const bobEpochKey = unwrapEpochKey(
      { tenantId: 't1', committeeId: 'council', epoch: epoch.body.epoch },
      epoch.body.wrappedKeys.find((k) => k.recipient === me)!,
      { fingerprint: me, kem: bob.keys.kem },
    );
    const sink = new MemorySink();
    await openVersionContent(
      [blob],
      {
        record: {
          contentHash: version.body.contentHash,
          size: Number(version.body.size),
          keySlotHash: version.body.keySlotHash,
        },
        binding: {
          tenantId: 't1',
          committeeId: 'council',
          documentId: 'doc1',
          version: 1,
          epoch: 0,
        },
        epochKey: bobEpochKey,
        keySlot: base64urlDecode(slots.slots[0]!.keySlot),
      },
      sink,
    );
    t.same(Buffer.from(sink.bytes()), plaintext, 'bob decrypts what alice wrote, hash checked');

    // The server ends both APIs' LISTEN connections; a version committed at once still arrives.
    const killed = await admin(
      `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'ratsfach-api-push' AND query LIKE $1) AS k`,
      [`%${schemas.RATSFACH_READ_MODEL_SCHEMA}%`],
    );
    t.equal((killed.rows[0] as { n: number }).n, 2, "both APIs' LISTEN connections were ended");
    const v2 = await w.commitPlaintext(
      alice,
      'council',
      'doc1',
      2,
      1,
      0,
      epochKey,
      randomBytes(10),
    );
    t.ok(
      await stream.next(
        (e) => e.event === 'feeds' && BigInt(e.id) >= BigInt(v2.committed.position),
      ),
      'the change committed while the LISTEN connection was down still reaches bob',
    );
    t.match(first.output(), /LISTEN connection failed; reconnecting/, 'the drop is logged');
    t.notMatch(first.output() + second.output(), new RegExp(s3.secretKey), 'no secret in the log');
    t.equal(projector.child.exitCode, null, 'the projector process runs on');
  },
);
