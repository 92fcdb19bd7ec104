/**
 * Issue 8 item 6, the writer's side (the neighbour of unconfirmedSigner.test.ts): a document
 * record (a new document, a version, a move, a deletion, a restore, an erasure) counts only when
 * its signer is a staff device confirmed for the committee in the folding device's view.
 * Otherwise an admin alone could certify a new device for an existing staff member and, from it,
 * plant a document on every member's device or delete, move or erase the existing ones. Each test
 * plays that admin (with the server) and asserts the typed refusal, on the member device that
 * folds the chain and on the device that would sign.
 */
import t from 'tap';
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import { World, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  CryptoErrorCode,
  DocumentState,
  TrustError,
  firstSync,
  requireWritable,
  signRecord,
  type DeviceKeys,
} from '../src/index.js';

const signerNotConfirmed = CryptoErrorCode.signerNotConfirmed;

/** The standard scene plus a2, a device the admin alone certified for alice (staff). */
const scene = async () => {
  const { world } = await World.scene();
  world.enrol('alice', 'a2');
  world.heartbeat();
  const committee = () => world.state();
  const base = () => ({
    tenantId: world.tenantId,
    committeeId: world.committeeId,
    documentId: 'doc_1',
    tenantPosition: world.tenantPosition,
    committeeHead: committee().head,
  });
  const sign = <P extends Purpose>(
    chain: Uint8Array[],
    purpose: P,
    body: RecordBodies[P],
    by: string,
  ) =>
    chain.push(signRecord(purpose, headOf(chain), body, (world.devices[by] as DeviceKeys).signing));
  const version = (n: number, parent: number | null, by: string) => ({
    ...base(),
    version: n,
    parentVersion: parent,
    epoch: 0,
    contentHash: new Uint8Array(64).fill(n),
    size: n * 100,
    keySlotHash: new Uint8Array(64),
    authorDeviceId: by,
    encryptedMetadata: new Uint8Array(120).fill(n),
  });
  /** A document alice's confirmed a1 created and wrote version 1 of. */
  const honest = (): Uint8Array[] => {
    const doc: Uint8Array[] = [];
    sign(doc, 'document-created', { ...base(), epoch: 0 }, 'a1');
    sign(doc, 'version', version(1, null, 'a1'), 'a1');
    return doc;
  };
  /** bob's (a reader's) verdict: the fold he runs before touching local files. */
  const bobFolds = (doc: readonly Uint8Array[]) => DocumentState.fold(committee(), doc, firstSync);
  return { world, committee, base, sign, version, honest, bobFolds };
};

t.test('an unconfirmed staff device plants no new document', async (t) => {
  const { world, committee, base, sign, version, bobFolds } = await scene();
  expectError(
    t,
    () => requireWritable(world.trust(), committee(), fingerprintOf(world, 'a2'), world.now),
    TrustError,
    signerNotConfirmed,
  );
  const planted: Uint8Array[] = [];
  sign(planted, 'document-created', { ...base(), epoch: 0 }, 'a2');
  expectError(t, () => bobFolds(planted), TrustError, signerNotConfirmed);
  sign(planted, 'version', version(1, null, 'a2'), 'a2');
  expectError(t, () => bobFolds(planted), TrustError, signerNotConfirmed);
  // A chain a1 started, with a version from a2: refused at the version.
  const mixed: Uint8Array[] = [];
  sign(mixed, 'document-created', { ...base(), epoch: 0 }, 'a1');
  sign(mixed, 'version', version(1, null, 'a2'), 'a2');
  expectError(t, () => bobFolds(mixed), TrustError, signerNotConfirmed);
});

t.test(
  'an unconfirmed staff device writes, moves, deletes, restores or erases nothing',
  async (t) => {
    const { base, sign, version, honest, bobFolds } = await scene();
    const tries: readonly [string, (doc: Uint8Array[]) => void][] = [
      ['version', (doc) => sign(doc, 'version', version(2, 1, 'a2'), 'a2')],
      [
        'move',
        (doc) =>
          sign(
            doc,
            'document-moved',
            { ...base(), epoch: 0, version: 1, encryptedMetadata: new Uint8Array(120) },
            'a2',
          ),
      ],
      ['delete', (doc) => sign(doc, 'document-deleted', base(), 'a2')],
      [
        'restore',
        (doc) => {
          sign(doc, 'document-deleted', base(), 'a1');
          sign(doc, 'document-restored', base(), 'a2');
        },
      ],
      ['erase', (doc) => sign(doc, 'document-erased', base(), 'a2')],
    ];
    for (const [what, forge] of tries) {
      const doc = honest();
      t.equal(bobFolds(doc).versions.length, 1, `${what}: the honest chain verifies`);
      forge(doc);
      expectError(t, () => bobFolds(doc), TrustError, signerNotConfirmed);
    }
  },
);

t.test('once alice confirms a2, it writes and members accept what it wrote', async (t) => {
  const { world, committee, sign, version, honest, bobFolds } = await scene();
  const doc = honest();
  sign(doc, 'version', version(2, 1, 'a2'), 'a2');
  expectError(t, () => bobFolds(doc), TrustError, signerNotConfirmed);
  world.confirm('alice', 'a2', 'a1');
  world.heartbeat();
  t.equal(
    requireWritable(world.trust(), committee(), fingerprintOf(world, 'a2'), world.now),
    0,
    'a2 may write under epoch 0',
  );
  t.equal(bobFolds(doc).latest?.body.version, 2);
});

t.test(
  "a staff member's first device writes once the committee's staff confirmed it",
  async (t) => {
    const { world, committee, base, sign } = await scene();
    world.addUser('carol');
    world.enrol('carol', 'c1');
    world.cosign(world.addMember('carol', 'staff'), 'a1');
    world.heartbeat();
    const doc: Uint8Array[] = [];
    sign(doc, 'document-created', { ...base(), epoch: 0 }, 'c1');
    expectError(
      t,
      () => DocumentState.fold(committee(), doc, firstSync),
      TrustError,
      signerNotConfirmed,
    );
    world.confirm('carol', 'c1', 'a1', world.committeeId);
    world.heartbeat();
    t.equal(DocumentState.fold(committee(), doc, firstSync).documentId, 'doc_1');
  },
);

function fingerprintOf(world: World, deviceId: string): string {
  return (
    world
      .trust()
      .devicesOf('alice')
      .find((d) => d.deviceId === deviceId)?.fingerprint ?? ''
  );
}
