/**
 * One document version from author to reader through both halves of the package: the trust
 * chain from the pinned root, the committee fold, the epoch key, the signed version record, and
 * the content stream, key slot and blob hash it names. Plaintext is released only at the end.
 */
import t from 'tap';
import { World, headOf } from './support/world.js';
import {
  BlobHasher,
  CryptoErrorCode,
  DocumentState,
  firstSync,
  KeyListError,
  MemorySink,
  TrustError,
  TrustView,
  CommitteeState,
  encryptContent,
  encryptMetadata,
  generateDeviceKeys,
  fingerprint,
  generateContentKey,
  keySlotHash,
  openEpochKeys,
  openKeySlot,
  openSignedMetadata,
  openVersionContent,
  requireEpochKey,
  requireWritable,
  sealKeySlot,
  signRecord,
  type DeviceKeys,
} from '../src/index.js';

const collect = async (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(Uint8Array.from(part));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** Alice's device writes version `version` of doc_1 under the current epoch. */
const writeVersion = async (
  world: World,
  doc: Uint8Array[],
  epochKey: Uint8Array,
  plaintext: Uint8Array,
  version: number,
) => {
  const a1 = world.devices.a1 as DeviceKeys;
  const trust = world.trust();
  const committee = world.state();
  const epoch = requireWritable(trust, committee, fingerprint(a1.signing.publicKey), world.now);
  const base = {
    tenantId: 'city',
    committeeId: 'finance',
    documentId: 'doc_1',
    tenantPosition: trust.tenantHead.length,
    committeeHead: committee.head,
  };
  if (doc.length === 0)
    doc.push(signRecord('document-created', headOf(doc), { ...base, epoch }, a1.signing));
  const binding = { tenantId: 'city', committeeId: 'finance', documentId: 'doc_1', version, epoch };
  const contentKey = generateContentKey();
  const blob = await collect(encryptContent([plaintext], { contentKey, binding }));
  const hasher = new BlobHasher();
  hasher.update(blob);
  const digest = hasher.digest();
  const keySlot = sealKeySlot({ epochKey, contentKey, binding });
  doc.push(
    signRecord(
      'version',
      headOf(doc),
      {
        ...base,
        version,
        parentVersion: version === 1 ? null : version - 1,
        epoch,
        contentHash: digest.hash,
        size: digest.size,
        keySlotHash: keySlotHash(keySlot),
        authorDeviceId: 'a1',
        encryptedMetadata: encryptMetadata({
          contentKey,
          binding,
          metadata: {
            name: `Tagesordnung ${version}.pdf`,
            folderPath: ['Sitzungen'],
            mimeType: 'application/pdf',
            createdAt: 1_700_000_000_000,
            modifiedAt: 1_700_000_000_000 + version,
          },
        }),
      },
      a1.signing,
    ),
  );
  return { blob, keySlot };
};

/** Bob's device: verify everything from the pinned root, then read the newest version. */
const readLatest = async (
  world: World,
  doc: Uint8Array[],
  device: DeviceKeys,
  stored: { blob: Uint8Array; keySlot: Uint8Array },
) => {
  const trust = TrustView.build({
    rootPin: world.code.rootPin,
    tenantChain: world.tenant,
    userChains: world.users,
  });
  const committee = CommitteeState.fold(trust, world.committee);
  const latest = DocumentState.fold(committee, doc, firstSync).latest!;
  const epochKey = requireEpochKey(openEpochKeys(committee, device), latest.body.epoch);
  const sink = new MemorySink();
  await openVersionContent(
    [stored.blob],
    { record: latest.body, binding: latest.body, epochKey, keySlot: stored.keySlot },
    sink,
  );
  return sink.bytes();
};

/** Bob's device reads the newest version's name: only the metadata the author signed. */
const readLatestName = (
  world: World,
  doc: Uint8Array[],
  device: DeviceKeys,
  stored: { keySlot: Uint8Array },
): string => {
  const trust = TrustView.build({
    rootPin: world.code.rootPin,
    tenantChain: world.tenant,
    userChains: world.users,
  });
  const committee = CommitteeState.fold(trust, world.committee);
  const state = DocumentState.fold(committee, doc, firstSync);
  const latest = state.latest!;
  const signed = state.metadata!;
  const epochKey = requireEpochKey(openEpochKeys(committee, device), latest.body.epoch);
  const contentKey = openKeySlot(stored.keySlot, { epochKey, binding: latest.body });
  return openSignedMetadata(signed.encryptedMetadata, {
    signed: signed.encryptedMetadata,
    contentKey,
    binding: signed.binding,
  }).name;
};

t.test(
  'a reader opens what the staff author wrote, verified from the pinned root down',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    const doc: Uint8Array[] = [];
    const plaintext = new TextEncoder().encode('Tagesordnung, nichtöffentlich');
    const stored = await writeVersion(world, doc, epoch0, plaintext, 1);
    t.same(await readLatest(world, doc, world.devices.b1!, stored), plaintext);
    t.equal(readLatestName(world, doc, world.devices.b1!, stored), 'Tagesordnung 1.pdf');
  },
);

t.test('a version record made up by the server releases no plaintext', async (t) => {
  const { world, epoch0 } = await World.scene();
  const doc: Uint8Array[] = [];
  const stored = await writeVersion(world, doc, epoch0, new Uint8Array([1, 2, 3]), 1);
  const forged = [...doc.slice(0, 1)];
  const fake = generateDeviceKeys();
  const honest = DocumentState.fold(world.state(), doc, firstSync).latest!.body;
  forged.push(signRecord('version', headOf(forged), honest, fake.signing));
  await t.rejects(readLatest(world, forged, world.devices.b1!, stored), {
    code: CryptoErrorCode.untrustedKey,
  });
  await t.rejects(readLatest(world, forged, world.devices.b1!, stored), TrustError);
});

t.test(
  'after removal and a new epoch, the removed reader cannot read the next version',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    const doc: Uint8Array[] = [];
    await writeVersion(world, doc, epoch0, new Uint8Array([1]), 1);
    world.removeMember('bob');
    world.heartbeat();
    const epoch1 = world.startEpoch('a1', 'removal', epoch0);
    const stored = await writeVersion(world, doc, epoch1, new Uint8Array([2]), 2);
    const err = await readLatest(world, doc, world.devices.b1!, stored).catch((e: unknown) => e);
    t.type(err, KeyListError);
    t.equal((err as KeyListError).code, CryptoErrorCode.noWrappedKey);
    t.same(await readLatest(world, doc, world.devices.a1!, stored), new Uint8Array([2]));
  },
);
