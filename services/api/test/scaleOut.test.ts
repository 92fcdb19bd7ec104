// Scale-out, as an operator runs it: two API processes and one projector process on PostgreSQL
// (throw-away schemas) and the Ceph RADOS Gateway (a throw-away bucket). A device connected to
// the first API is told over its event stream about a version committed through the second,
// downloads it through the presigned URL, verifies and decrypts it; the first API's LISTEN
// connection is killed by the server and the next version still reaches the device.
import { randomBytes } from 'node:crypto';
import t from 'tap';
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
import { base64urlDecode, decodeEvent } from '@ratsfach/domain';
import { councilWorld, type WorldDevice } from './helpers/documentWorld.js';
import { adminQuery, startScaleOut } from './helpers/scaleOutService.js';

// Three processes transpile their sources at start: minutes on two busy shared cores.
t.setTimeout(1_500_000);

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
    const {
      s3,
      schemas,
      bucket,
      eventStore,
      readModel,
      blobStore,
      projector,
      first,
      second,
      api1,
      api2,
    } = await startScaleOut(t);
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
    const killed = await adminQuery(
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
