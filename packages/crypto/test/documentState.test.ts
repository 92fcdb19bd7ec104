import t from 'tap';
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import { World, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  CryptoErrorCode,
  DocumentState,
  firstSync,
  SignatureError,
  TrustError,
  signRecord,
  type DeviceKeys,
} from '../src/index.js';

const scene = async () => {
  const { world, epoch0 } = await World.scene();
  const committee = world.state();
  const a1 = world.devices.a1 as DeviceKeys;
  const doc: Uint8Array[] = [];
  const base = {
    tenantId: 'city',
    committeeId: 'finance',
    documentId: 'doc_1',
    tenantPosition: world.tenantPosition,
    committeeHead: committee.head,
  };
  const add = <P extends Purpose>(purpose: P, body: RecordBodies[P], chain = doc) => {
    chain.push(signRecord(purpose, headOf(chain), body, a1.signing));
  };
  const version = (n: number, parent: number | null, epoch = 0) => ({
    ...base,
    version: n,
    parentVersion: parent,
    epoch,
    contentHash: new Uint8Array(64).fill(n),
    size: n * 100,
    keySlotHash: new Uint8Array(64),
    authorDeviceId: 'a1',
    encryptedMetadata: new Uint8Array(120).fill(n),
  });
  add('document-created', { ...base, epoch: 0 });
  return { world, epoch0, committee, doc, add, version, base };
};

t.test('versions count up from 1, each naming its parent and the current epoch', async (t) => {
  const { committee, doc, add, version } = await scene();
  add('version', version(1, null));
  add('version', version(2, 1));
  const state = DocumentState.fold(committee, doc, firstSync);
  t.equal(state.versions.length, 2);
  t.equal(state.latest?.body.size, 200);
  t.equal(state.head.length, 3);
  t.equal(state.hashes.length, 3, 'the hashes of every record, for the seen heads');
  t.same(state.hashes[2], state.head.hash);
});

t.test('a skipped version, a wrong parent or a wrong epoch is refused', async (t) => {
  for (const [n, parent, epoch] of [
    [2, null, 0],
    [1, 1, 0],
    [1, null, 1],
  ] as const) {
    const { committee, doc, add, version } = await scene();
    add('version', version(n, parent, epoch));
    expectError(
      t,
      () => DocumentState.fold(committee, doc, firstSync),
      TrustError,
      CryptoErrorCode.unauthorisedSigner,
    );
  }
});

t.test(
  'nothing follows an erasure; a restore needs a deletion; a deleted document takes no version',
  async (t) => {
    {
      const { committee, doc, add, base, version } = await scene();
      add('document-erased', base);
      add('version', version(1, null));
      expectError(
        t,
        () => DocumentState.fold(committee, doc, firstSync),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    }
    {
      const { committee, doc, add, base } = await scene();
      add('document-restored', base);
      expectError(
        t,
        () => DocumentState.fold(committee, doc, firstSync),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    }
    {
      const { committee, doc, add, base, version } = await scene();
      add('document-deleted', base);
      add('version', version(1, null));
      expectError(
        t,
        () => DocumentState.fold(committee, doc, firstSync),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    }
  },
);

t.test('a committee record is not a document record', async (t) => {
  const { world, committee, doc } = await scene();
  doc.push(
    signRecord(
      'retention',
      headOf(doc),
      {
        tenantId: 'city',
        committeeId: 'finance',
        tenantPosition: world.tenantPosition,
        retentionDays: 1,
      },
      world.devices.a1!.signing,
    ),
  );
  expectError(
    t,
    () => DocumentState.fold(committee, doc, firstSync),
    SignatureError,
    CryptoErrorCode.wrongPurpose,
  );
});

t.test('a staff member removed later still authored the versions written before', async (t) => {
  const { world, committee, doc, add, version } = await scene();
  add('version', version(1, null));
  world.removeMember('alice');
  const later = world.state();
  t.not(later.head.length, committee.head.length);
  t.equal(DocumentState.fold(later, doc, firstSync).versions.length, 1);
});

t.test(
  "the signed metadata is the newest version's, or a later move's naming the head version",
  async (t) => {
    const { committee, doc, add, version, base } = await scene();
    t.equal(DocumentState.fold(committee, doc, firstSync).metadata, null);
    add('version', version(1, null));
    add('version', version(2, 1));
    let state = DocumentState.fold(committee, doc, firstSync);
    t.same(state.metadata?.encryptedMetadata, new Uint8Array(120).fill(2));
    t.same(state.metadata?.binding, {
      tenantId: 'city',
      documentId: 'doc_1',
      version: 2,
      epoch: 0,
    });
    add('document-moved', { ...base, epoch: 0, version: 2, encryptedMetadata: new Uint8Array(90) });
    state = DocumentState.fold(committee, doc, firstSync);
    t.same(state.metadata?.encryptedMetadata, new Uint8Array(90));
    t.equal(state.metadata?.binding.version, 2);
    t.equal(state.metadata?.sequence, 3);
  },
);

t.test('a move naming an older version, or made before any version, is refused', async (t) => {
  {
    const { committee, doc, add, version, base } = await scene();
    add('version', version(1, null));
    add('version', version(2, 1));
    add('document-moved', { ...base, epoch: 0, version: 1, encryptedMetadata: new Uint8Array(90) });
    expectError(
      t,
      () => DocumentState.fold(committee, doc, firstSync),
      TrustError,
      CryptoErrorCode.unauthorisedSigner,
    );
  }
  {
    const { committee, doc, add, base } = await scene();
    add('document-moved', { ...base, epoch: 0, version: 1, encryptedMetadata: new Uint8Array(90) });
    expectError(
      t,
      () => DocumentState.fold(committee, doc, firstSync),
      TrustError,
      CryptoErrorCode.unauthorisedSigner,
    );
  }
});
