/**
 * docs/security.md properties 11 to 14 (signed metadata, records and chains), with the server as the attacker: it
 * makes up document changes, re-encodes records and replays older chain heads.
 */
import t from 'tap';
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import { World, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  ChainError,
  CommitteeState,
  CryptoErrorCode,
  DocumentState,
  firstSync,
  EncodingError,
  SeenHeads,
  SignatureError,
  TrustError,
  MetadataError,
  createRecordVerifier,
  encryptMetadata,
  generateContentKey,
  generateDeviceKeys,
  openSignedMetadata,
  linkChain,
  openAnyRecord,
  openRecord,
  signRecord,
  sodium,
  type DeviceKeys,
  type DocumentMetadata,
  type SigningKeyPair,
} from '../src/index.js';

const sitzung: DocumentMetadata = {
  name: 'Sitzung 2026-03.pdf',
  folderPath: ['Finanzen', 'Sitzungen'],
  mimeType: 'application/pdf',
  createdAt: 1_774_000_000_000,
  modifiedAt: 1_774_000_100_000,
};

/** A committee scene plus one document with a first version, all signed honestly by alice's a1. */
const documentScene = async () => {
  const { world } = await World.scene();
  const committee = world.state();
  const doc: Uint8Array[] = [];
  const base = (documentId = 'doc_1') => ({
    tenantId: 'city',
    committeeId: 'finance',
    documentId,
    tenantPosition: world.tenantPosition,
    committeeHead: committee.head,
  });
  const append = <P extends Purpose>(
    purpose: P,
    body: RecordBodies[P],
    signer: SigningKeyPair,
    chain = doc,
  ) => {
    const bytes = signRecord(purpose, headOf(chain), body, signer);
    chain.push(bytes);
    return bytes;
  };
  const a1 = world.devices.a1 as DeviceKeys;
  append('document-created', { ...base(), epoch: 0 }, a1.signing);
  const contentKey = generateContentKey();
  const binding = { tenantId: 'city', documentId: 'doc_1', version: 1, epoch: 0 };
  append(
    'version',
    {
      ...base(),
      version: 1,
      parentVersion: null,
      epoch: 0,
      contentHash: new Uint8Array(64).fill(1),
      size: 1000,
      keySlotHash: new Uint8Array(64).fill(2),
      authorDeviceId: 'a1',
      encryptedMetadata: encryptMetadata({ contentKey, binding, metadata: sitzung }),
    },
    a1.signing,
  );
  return { world, committee, doc, base, append, a1, contentKey, binding };
};

/**
 * The record `bytes` with its body changed but the author's signature kept: what a server can
 * make. Re-encoded under the author's key, so only the signature can tell.
 */
const withAuthorSignature = <P extends Purpose>(
  bytes: Uint8Array,
  purpose: P,
  change: (body: RecordBodies[P]) => RecordBodies[P],
  author: SigningKeyPair,
): Uint8Array => {
  const opened = openRecord(bytes, purpose);
  const out = signRecord(
    purpose,
    { sequence: opened.sequence, previousHash: opened.previousHash },
    change(opened.body),
    author,
  );
  out.set(bytes.subarray(bytes.length - 64), out.length - 64);
  return out;
};

t.test(
  'property 11: metadata is encrypted and signed; author, size and parent version are signed',
  async (t) => {
    t.test('a device opens the metadata the author signed', async (t) => {
      const { committee, doc, contentKey } = await documentScene();
      const signed = DocumentState.fold(committee, doc, firstSync).metadata!;
      t.same(
        openSignedMetadata(signed.encryptedMetadata, {
          signed: signed.encryptedMetadata,
          contentKey,
          binding: signed.binding,
        }),
        sitzung,
      );
    });

    t.test(
      "the server swapping a version's metadata for another version's or document's is refused",
      async (t) => {
        const { committee, doc, base, append, a1, contentKey, binding } = await documentScene();
        const otherVersion = encryptMetadata({
          contentKey,
          binding: { ...binding, version: 2 },
          metadata: { ...sitzung, name: 'Sitzung 2026-04.pdf' },
        });
        const otherDocument = encryptMetadata({
          contentKey: generateContentKey(),
          binding: { ...binding, documentId: 'doc_2' },
          metadata: { ...sitzung, name: 'Sitzung 2026-05.pdf' },
        });
        const signed = DocumentState.fold(committee, doc, firstSync).metadata!;
        for (const swapped of [otherVersion, otherDocument]) {
          // Swapped inside the signed record: the signature no longer covers it.
          t.equal(swapped.length, signed.encryptedMetadata.length);
          const record = Uint8Array.from(doc[1] as Uint8Array);
          record.set(swapped, record.length - 64 - swapped.length);
          expectError(
            t,
            () => DocumentState.fold(committee, [doc[0] as Uint8Array, record], firstSync),
            SignatureError,
            CryptoErrorCode.badSignature,
          );
          // Served beside the record (a listing, a cache): not the signed bytes.
          expectError(
            t,
            () =>
              openSignedMetadata(swapped, {
                signed: signed.encryptedMetadata,
                contentKey,
                binding: signed.binding,
              }),
            MetadataError,
            CryptoErrorCode.hashMismatch,
          );
        }
        // Even a signed record carrying metadata bound to another version does not open.
        const v1 = openRecord(doc[1] as Uint8Array, 'version').body;
        append(
          'version',
          {
            ...v1,
            ...base(),
            version: 2,
            parentVersion: 1,
            encryptedMetadata: v1.encryptedMetadata,
          },
          a1.signing,
        );
        const second = DocumentState.fold(committee, doc, firstSync).metadata!;
        t.equal(second.binding.version, 2);
        expectError(
          t,
          () =>
            openSignedMetadata(second.encryptedMetadata, {
              signed: second.encryptedMetadata,
              contentKey,
              binding: second.binding,
            }),
          MetadataError,
          CryptoErrorCode.decryptionFailed,
        );
      },
    );

    t.test('a reader holding the content key who encrypts another name is refused', async (t) => {
      const { world, committee, doc, base, append, contentKey, binding } = await documentScene();
      const forged = encryptMetadata({
        contentKey,
        binding,
        metadata: { ...sitzung, name: 'Rücktritt.pdf' },
      });
      const signed = DocumentState.fold(committee, doc, firstSync).metadata!;
      // It decrypts (right key, right binding) but is not the object the author signed.
      expectError(
        t,
        () =>
          openSignedMetadata(forged, {
            signed: signed.encryptedMetadata,
            contentKey,
            binding: signed.binding,
          }),
        MetadataError,
        CryptoErrorCode.hashMismatch,
      );
      // Signing it as a move with the reader's own device is refused too.
      const b1 = world.devices.b1 as DeviceKeys;
      append(
        'document-moved',
        { ...base(), epoch: 0, version: 1, encryptedMetadata: forged },
        b1.signing,
      );
      expectError(
        t,
        () => DocumentState.fold(committee, doc, firstSync),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    });

    t.test('a changed author, size or parent version breaks the signature', async (t) => {
      const { committee, doc, base, append, a1 } = await documentScene();
      const v1 = openRecord(doc[1] as Uint8Array, 'version').body;
      append('version', { ...v1, ...base(), version: 2, parentVersion: 1 }, a1.signing);
      const changes: ((b: RecordBodies['version']) => RecordBodies['version'])[] = [
        (b) => ({ ...b, authorDeviceId: 'a2' }),
        (b) => ({ ...b, size: b.size + 1 }),
        (b) => ({ ...b, parentVersion: null }),
      ];
      for (const change of changes) {
        const forged = withAuthorSignature(doc[2] as Uint8Array, 'version', change, a1.signing);
        t.notSame(forged, doc[2]);
        expectError(
          t,
          () =>
            DocumentState.fold(
              committee,
              [doc[0] as Uint8Array, doc[1] as Uint8Array, forged],
              firstSync,
            ),
          SignatureError,
          CryptoErrorCode.badSignature,
        );
      }
    });
  },
);

t.test(
  'property 12: the folder tree comes only from records signed by authorised devices',
  async (t) => {
    t.test('honest create, version, move, delete, restore and erase fold as signed', async (t) => {
      const { committee, doc, base, append, a1 } = await documentScene();
      append(
        'document-moved',
        { ...base(), epoch: 0, version: 1, encryptedMetadata: new Uint8Array(20).fill(7) },
        a1.signing,
      );
      append('document-deleted', base(), a1.signing);
      t.ok(DocumentState.fold(committee, doc, firstSync).deleted);
      append('document-restored', base(), a1.signing);
      const state = DocumentState.fold(committee, doc, firstSync);
      t.notOk(state.deleted);
      t.equal(state.latest?.body.size, 1000);
      t.same(state.metadata?.encryptedMetadata, new Uint8Array(20).fill(7));
      append('document-erased', base(), a1.signing);
      t.ok(DocumentState.fold(committee, doc, firstSync).erased);
    });

    t.test('a move, deletion or erasure signed by a key the server made is refused', async (t) => {
      const { committee, doc, base, append } = await documentScene();
      const server = generateDeviceKeys().signing;
      for (const purpose of ['document-deleted', 'document-erased', 'document-restored'] as const) {
        const chain = [...doc];
        append(purpose, base(), server, chain);
        expectError(
          t,
          () => DocumentState.fold(committee, chain, firstSync),
          TrustError,
          CryptoErrorCode.untrustedKey,
        );
      }
      const moved = [...doc];
      append(
        'document-moved',
        { ...base(), epoch: 0, version: 1, encryptedMetadata: new Uint8Array(8) },
        server,
        moved,
      );
      expectError(
        t,
        () => DocumentState.fold(committee, moved, firstSync),
        TrustError,
        CryptoErrorCode.untrustedKey,
      );
      // A made-up document: its creation record is signed by the server's key.
      const madeUp: Uint8Array[] = [];
      append('document-created', { ...base('doc_9'), epoch: 0 }, server, madeUp);
      expectError(
        t,
        () => DocumentState.fold(committee, madeUp, firstSync),
        TrustError,
        CryptoErrorCode.untrustedKey,
      );
      // The honest chain is unaffected.
      t.equal(DocumentState.fold(committee, doc, firstSync).versions.length, 1);
    });

    t.test('a move, deletion or erasure signed by a reader device is refused', async (t) => {
      const { world, committee, doc, base, append } = await documentScene();
      const b1 = world.devices.b1 as DeviceKeys;
      for (const purpose of ['document-deleted', 'document-erased'] as const) {
        const chain = [...doc];
        append(purpose, base(), b1.signing, chain);
        expectError(
          t,
          () => DocumentState.fold(committee, chain, firstSync),
          TrustError,
          CryptoErrorCode.unauthorisedSigner,
        );
      }
      const moved = [...doc];
      append(
        'document-moved',
        { ...base(), epoch: 0, version: 1, encryptedMetadata: new Uint8Array(4) },
        b1.signing,
        moved,
      );
      expectError(
        t,
        () => DocumentState.fold(committee, moved, firstSync),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    });

    t.test(
      "a genuine deletion of another document, replayed into this one's chain, is refused",
      async (t) => {
        const { committee, doc, base, append, a1 } = await documentScene();
        const other: Uint8Array[] = [];
        append('document-created', { ...base('doc_2'), epoch: 0 }, a1.signing, other);
        append(
          'version',
          {
            ...base('doc_2'),
            version: 1,
            parentVersion: null,
            epoch: 0,
            contentHash: new Uint8Array(64),
            size: 1,
            keySlotHash: new Uint8Array(64),
            authorDeviceId: 'a1',
            encryptedMetadata: new Uint8Array(106),
          },
          a1.signing,
          other,
        );
        const deletion = append('document-deleted', base('doc_2'), a1.signing, other);
        // Same position, so the chain link matches only by chance: it does not, the hash differs.
        expectError(
          t,
          () => DocumentState.fold(committee, [...doc, deletion], firstSync),
          ChainError,
          CryptoErrorCode.chainBroken,
        );
      },
    );

    t.test(
      'a document record naming a committee head the device has not verified is refused',
      async (t) => {
        const { committee, doc, base, append, a1 } = await documentScene();
        append(
          'document-deleted',
          {
            ...base(),
            committeeHead: { length: committee.head.length, hash: new Uint8Array(64).fill(9) },
          },
          a1.signing,
        );
        expectError(
          t,
          () => DocumentState.fold(committee, doc, firstSync),
          ChainError,
          CryptoErrorCode.chainBroken,
        );
      },
    );
  },
);

t.test(
  'property 13: a signature covers the one canonical encoding of the exact stored bytes',
  async (t) => {
    const { world } = await World.scene();
    const heartbeat = world.tenant[world.tenant.length - 1] as Uint8Array;
    const opened = openRecord(heartbeat, 'heartbeat');
    const signed = Uint8Array.from(heartbeat.subarray(0, heartbeat.length - 64));
    // Re-encode with the same meaning: swap the two user-head entries (alice, bob) of the map.
    const entry = (userId: string) => 1 + userId.length + 64;
    const bobLen = entry('bob');
    const aliceLen = entry('alice');
    // The committee-head map follows: count (4), then finance's id (1 + 7), length (8), hash (64).
    const end = signed.length - (4 + 1 + 'finance'.length + 8 + 64);
    const alice = signed.slice(end - bobLen - aliceLen, end - bobLen);
    const bob = signed.slice(end - bobLen, end);
    const reencoded = Uint8Array.from(signed);
    reencoded.set(bob, end - bobLen - aliceLen);
    reencoded.set(alice, end - bobLen - aliceLen + bobLen);
    t.not(sodium().to_hex(reencoded), sodium().to_hex(signed));
    // The server cannot re-sign: same signature, other bytes.
    const byServer = new Uint8Array(heartbeat.length);
    byServer.set(reencoded);
    byServer.set(heartbeat.subarray(heartbeat.length - 64), reencoded.length);
    expectError(
      t,
      () => openRecord(byServer, 'heartbeat'),
      SignatureError,
      CryptoErrorCode.badSignature,
    );
    expectError(
      t,
      () => createRecordVerifier().verify(byServer, 'ratsfach/v1/heartbeat/v2'),
      SignatureError,
      CryptoErrorCode.badSignature,
    );
    // Even the signer's own non-canonical encoding is refused after the signature checks out.
    const bySigner = new Uint8Array(heartbeat.length);
    bySigner.set(reencoded);
    bySigner.set(
      sodium().crypto_sign_detached(reencoded, world.admin.signing.privateKey),
      reencoded.length,
    );
    expectError(
      t,
      () => openRecord(bySigner, 'heartbeat'),
      EncodingError,
      CryptoErrorCode.nonCanonical,
    );
    t.equal(Object.keys(opened.body.userHeads).join(','), 'alice,bob');
  },
);

t.test(
  'property 14: sequence and previous hash inside the signed bytes; rollback refused',
  async (t) => {
    const { world } = await World.scene();
    const stream = 'committee-city-finance';
    const records = world.committee.map((b) => openAnyRecord(b));
    t.test('a dropped record breaks the chain', async (t) => {
      expectError(
        t,
        () => linkChain([records[0]!, ...records.slice(2)], stream),
        ChainError,
        CryptoErrorCode.chainBroken,
      );
      expectError(
        t,
        () =>
          CommitteeState.fold(world.trust(), [world.committee[0]!, ...world.committee.slice(2)]),
        ChainError,
        CryptoErrorCode.chainBroken,
      );
    });
    t.test('reordered records break the chain', async (t) => {
      const swapped = [records[0]!, records[2]!, records[1]!, ...records.slice(3)];
      expectError(t, () => linkChain(swapped, stream), ChainError, CryptoErrorCode.chainBroken);
    });
    t.test('a replayed older head is refused as a rollback', async (t) => {
      const seen = new SeenHeads();
      seen.accept(stream, linkChain(records, stream));
      expectError(
        t,
        () => seen.accept(stream, linkChain(records.slice(0, records.length - 1), stream)),
        ChainError,
        CryptoErrorCode.rollback,
      );
      t.equal(seen.head(stream)?.length, records.length, 'the newer head is kept');
    });
    t.test(
      "each record names its own position and its predecessor's hash; a record moved to another position is refused",
      async (t) => {
        const last = records[records.length - 1]!;
        t.equal(last.sequence, records.length - 1);
        t.same(last.previousHash, records[records.length - 2]!.hash);
        const moved = [
          ...world.committee.slice(0, -2),
          world.committee[world.committee.length - 1]!,
        ];
        expectError(
          t,
          () => CommitteeState.fold(world.trust(), moved),
          ChainError,
          CryptoErrorCode.chainBroken,
        );
      },
    );
  },
);

t.test('the last heads survive a restart, so a rollback after it is refused too', async (t) => {
  const { world } = await World.scene();
  const stream = 'committee-city-finance';
  const records = world.committee.map((b) => openAnyRecord(b));
  const seen = new SeenHeads();
  seen.accept(stream, linkChain(records, stream));
  const restored = SeenHeads.restore(seen.toStored());
  t.same(restored.heads(), seen.heads());
  expectError(
    t,
    () => restored.accept(stream, linkChain(records.slice(0, 2), stream)),
    ChainError,
    CryptoErrorCode.rollback,
  );
});
