// The document and key builders, run through the domain's deciders with the real crypto: what the
// client builds is what the service accepts (and a wrong input is refused, not silently fixed).
import t from 'tap';
import {
  createRecordVerifier,
  cryptoReady,
  encryptMetadata,
  fingerprint,
  generateContentKey,
  generateEpochKey,
  generateKemKeyPair,
  generateSigningKeyPair,
  hash512,
  signRecord,
  unchained,
  wrapEpochKey,
  epochKeyCommitment,
  type SigningKeyPair,
} from '@ratsfach/crypto';
import {
  ConflictError,
  DomainErrorCode,
  ForbiddenError,
  commandFromJson,
  commandToJson,
  decodeEvent,
  deciders,
  encodeEvent,
  foldStream,
  loadContext,
  routeCommand,
  streamOfCommand,
  type ChainHead,
  type DomainCommand,
  type DomainEvent,
  type RecordVerifier,
} from '@ratsfach/domain';
import {
  commitVersionCommand,
  createDocumentCommand,
  deleteDocumentCommand,
  eraseDocumentCommand,
  moveDocumentCommand,
  restoreDocumentCommand,
} from './documentRecords.js';
import {
  headsSeenCommand,
  recipientsOfKeyRecord,
  startKeyEpochCommand,
  wrapEpochKeysCommand,
} from './keyRecords.js';
import { nextLink, recordOf } from './toCommandJson.js';
import { confirmDeviceCommand } from './userRecords.js';

const tenantId = 't1';
const committeeId = 'council';
const cs = `committee-${tenantId}-${committeeId}`;

class World {
  readonly log = new Map<string, DomainEvent[]>();
  constructor(readonly verifier: RecordVerifier) {}

  head(stream: string): ChainHead {
    const state = foldStream(stream, this.log.get(stream) ?? []) as {
      chain?: { length: number; head: Uint8Array };
    };
    return state.chain === undefined
      ? { length: 0, hash: new Uint8Array(64) }
      : { length: state.chain.length, hash: state.chain.head };
  }

  link(stream: string) {
    const head = this.head(stream);
    return { sequence: head.length, previousHash: head.hash };
  }

  /** Decodes the JSON body as the API does, decides, round-trips the events and appends them. */
  async send(body: unknown): Promise<DomainEvent[]> {
    const command: DomainCommand = commandFromJson(JSON.parse(JSON.stringify(body)));
    const stream = streamOfCommand(command);
    const decider = deciders[routeCommand(command).kind] as unknown as {
      decide(command: DomainCommand, state: unknown, context: unknown): DomainEvent[];
    };
    const context = await loadContext(command, this.verifier, async (name) =>
      foldStream(name, this.log.get(name) ?? []),
    );
    const events = decider.decide(command, foldStream(stream, this.log.get(stream) ?? []), context);
    this.log.set(stream, [
      ...(this.log.get(stream) ?? []),
      ...events.map((event) => decodeEvent(encodeEvent(event))),
    ]);
    return events;
  }

  async types(body: unknown): Promise<string[]> {
    return (await this.send(body)).map((e) => e.type);
  }
}

const certify = (
  w: World,
  userId: string,
  deviceId: string,
  key: SigningKeyPair,
  adm: SigningKeyPair,
): DomainCommand => ({
  type: 'CertifyDevice',
  data: {
    tenantId,
    userId,
    deviceId,
    signerDeviceId: 'adm1',
    record: signRecord(
      'device-certificate',
      w.link(`user-${tenantId}-${userId}`),
      {
        tenantId,
        userId,
        deviceId,
        signingKey: key.publicKey,
        kemKey: generateKemKeyPair().publicKey,
        notBefore: 1_767_000_000,
        notAfter: 1_800_000_000,
        tenantPosition: 2,
        enrolmentCodeId: null,
      },
      adm,
    ),
  },
  metadata: { commandId: `cert-${deviceId}`, now: '2026-01-10T10:00:00.000Z' },
});

/** A tenant with an admin device, staff user alice (device a1) and reader bob (b1). */
async function setUp(t: { pass(message: string): void }) {
  await cryptoReady();
  const w = new World(createRecordVerifier());
  const root = generateSigningKeyPair();
  const adm = generateSigningKeyPair();
  const a1 = generateSigningKeyPair();
  const b1 = generateSigningKeyPair();
  const meta = (id: string) => ({ commandId: id, now: '2026-01-10T10:00:00.000Z' });
  const direct = async (command: DomainCommand) => w.send(commandToJson(command));
  await direct({
    type: 'CreateTenant',
    data: {
      tenantId,
      record: signRecord('tenant-created', unchained, { tenantId, createdAt: 1_767_000_000 }, root),
    },
    metadata: meta('tenant'),
  });
  await direct({
    type: 'CertifyAdminDevice',
    data: {
      tenantId,
      deviceId: 'adm1',
      record: signRecord(
        'admin-device-certificate',
        w.link('tenant-t1'),
        {
          tenantId,
          userId: 'admin',
          deviceId: 'adm1',
          signingKey: adm.publicKey,
          kemKey: generateKemKeyPair().publicKey,
          notBefore: 1_767_000_000,
          notAfter: 1_800_000_000,
        },
        root,
      ),
    },
    metadata: meta('adm'),
  });
  for (const userId of ['alice', 'bob']) {
    await direct({
      type: 'CreateUser',
      data: {
        tenantId,
        userId,
        signerDeviceId: 'adm1',
        record: signRecord(
          'user-created',
          w.link(`user-t1-${userId}`),
          { tenantId, userId, tenantPosition: 2 },
          adm,
        ),
      },
      metadata: meta(`user-${userId}`),
    });
  }
  await direct(certify(w, 'alice', 'a1', a1, adm));
  await direct(certify(w, 'bob', 'b1', b1, adm));
  await direct({
    type: 'CreateCommittee',
    data: {
      tenantId,
      committeeId,
      signerDeviceId: 'adm1',
      record: signRecord(
        'committee-created',
        w.link(cs),
        { tenantId, committeeId, tenantPosition: 2 },
        adm,
      ),
    },
    metadata: meta('committee'),
  });
  const members = [
    ['alice', 'staff', a1, 'a1'],
    ['bob', 'reader', b1, 'b1'],
  ] as const;
  for (const [userId, role] of members) {
    await direct({
      type: 'ChangeMembership',
      data: {
        tenantId,
        committeeId,
        signerDeviceId: 'adm1',
        change: 'add',
        userId,
        role,
        record: signRecord(
          'membership',
          w.link(cs),
          { tenantId, committeeId, userId, change: 'add', role, tenantPosition: 2 },
          adm,
        ),
      },
      metadata: meta(`member-${userId}`),
    });
    const committee = foldStream(cs, w.log.get(cs) ?? []) as {
      members: Record<string, { membershipSequence: number; membershipHash: Uint8Array }>;
    };
    const member = committee.members[userId];
    if (member === undefined) throw new Error(`${userId} is no member`);
    await direct({
      type: 'CoSignMembership',
      data: {
        tenantId,
        committeeId,
        userId,
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        record: signRecord(
          'membership-cosignature',
          w.link(cs),
          {
            tenantId,
            committeeId,
            membershipSequence: member.membershipSequence,
            membershipHash: member.membershipHash,
            tenantPosition: 2,
          },
          a1,
        ),
      },
      metadata: meta(`cosign-${userId}`),
    });
  }
  // Keys go only to confirmed devices: alice's founding device confirms bob's first device.
  await w.send(
    confirmDeviceCommand(
      {
        tenantId,
        userId: 'bob',
        deviceId: 'b1',
        fingerprint: fingerprint(b1.publicKey),
        tenantPosition: 2,
        committeeId,
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        signer: a1,
        link: w.link(`user-${tenantId}-bob`),
      },
      { commandId: 'confirm-b1', now: Date.parse('2026-01-10T10:00:00.000Z') },
    ),
  );
  t.pass('tenant, users and committee set up');
  return { w, a1, b1 };
}

t.test('key records: an epoch for alice, then keys wrapped for bob', async (t) => {
  const { w, a1, b1 } = await setUp(t);
  const ref = { tenantId, committeeId, epoch: 0 };
  const epochKey = generateEpochKey();
  const aliceKem = generateKemKeyPair();
  const bobKem = generateKemKeyPair();
  const fpA = fingerprint(a1.publicKey);
  const fpB = fingerprint(b1.publicKey);
  const directory = {
    device: (fp: string) =>
      fp === fpA
        ? { userId: 'alice', deviceId: 'a1' }
        : fp === fpB
          ? { userId: 'bob', deviceId: 'b1' }
          : undefined,
  };
  const epochRecord = signRecord(
    'key-epoch',
    w.link(cs),
    {
      tenantId,
      committeeId,
      epoch: 0,
      reason: 'initial',
      tenantPosition: 2,
      keyCommitment: epochKeyCommitment(ref, epochKey),
      previousKey: null,
      wrappedKeys: [wrapEpochKey(ref, epochKey, { fingerprint: fpA, kemKey: aliceKem.publicKey })],
    },
    a1,
  );
  const recipients = recipientsOfKeyRecord(epochRecord, directory);
  t.same(recipients, [{ userId: 'alice', deviceId: 'a1' }], 'recipients read from the record');
  const start = startKeyEpochCommand({
    tenantId,
    committeeId,
    epoch: 0,
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    record: epochRecord,
    recipients,
  });
  t.same(await w.types(start), ['KeyEpochStarted']);
  t.same(recordOf(start), epochRecord, 'the command carries the signed bytes unchanged');

  const wrapRecord = signRecord(
    'epoch-keys',
    w.link(cs),
    {
      tenantId,
      committeeId,
      epoch: 0,
      tenantPosition: 2,
      wrappedKeys: [wrapEpochKey(ref, epochKey, { fingerprint: fpB, kemKey: bobKem.publicKey })],
    },
    a1,
  );
  const wrapInput = {
    tenantId,
    committeeId,
    epoch: 0,
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    record: wrapRecord,
  };
  await t.rejects(
    w.send(
      wrapEpochKeysCommand({ ...wrapInput, recipients: [{ userId: 'alice', deviceId: 'a1' }] }),
    ),
    'recipients that differ from the record are refused by the domain',
  );
  t.same(
    await w.types(
      wrapEpochKeysCommand({
        ...wrapInput,
        recipients: recipientsOfKeyRecord(wrapRecord, directory),
      }),
    ),
    ['EpochKeysWrapped'],
  );
  t.throws(
    () => recipientsOfKeyRecord(wrapRecord, { device: () => undefined }),
    TypeError,
    'an unknown fingerprint is an error, never a silent drop',
  );
});

t.test('document records: create, commit, conflict, move, delete, restore, erase', async (t) => {
  const { w, a1, b1 } = await setUp(t);
  const ref = { tenantId, committeeId, epoch: 0 };
  const epochKey = generateEpochKey();
  await w.send(
    startKeyEpochCommand({
      tenantId,
      committeeId,
      epoch: 0,
      signerUserId: 'alice',
      signerDeviceId: 'a1',
      recipients: [{ userId: 'alice', deviceId: 'a1' }],
      record: signRecord(
        'key-epoch',
        w.link(cs),
        {
          tenantId,
          committeeId,
          epoch: 0,
          reason: 'initial',
          tenantPosition: 2,
          keyCommitment: epochKeyCommitment(ref, epochKey),
          previousKey: null,
          wrappedKeys: [
            wrapEpochKey(ref, epochKey, {
              fingerprint: fingerprint(a1.publicKey),
              kemKey: generateKemKeyPair().publicKey,
            }),
          ],
        },
        a1,
      ),
    }),
  );
  const ds = `document-${tenantId}-doc1`;
  const signed = () => ({
    tenantId,
    committeeId,
    documentId: 'doc1',
    tenantPosition: 2,
    committeeHead: w.head(cs),
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    signer: a1,
  });
  t.same(await w.types(createDocumentCommand({ ...signed(), epoch: 0 })), ['DocumentCreated']);
  const contentKey = generateContentKey();
  const metadata = (version: number, name: string) =>
    encryptMetadata({
      contentKey,
      binding: { tenantId, documentId: 'doc1', version, epoch: 0 },
      metadata: {
        name,
        folderPath: ['Protokolle'],
        mimeType: 'application/pdf',
        createdAt: 1_774_000_000_000,
        modifiedAt: 1_774_000_000_000,
      },
    });
  const version = (v: number, parentVersion: number | null) => ({
    ...signed(),
    link: w.link(ds),
    version: v,
    parentVersion,
    epoch: 0,
    contentHash: hash512(new Uint8Array([v])),
    size: 1000,
    keySlotHash: hash512(new Uint8Array([v, 1])),
    encryptedMetadata: metadata(v, `Protokoll ${v}.pdf`),
  });
  const first = commitVersionCommand(version(1, null), {
    commandId: 'v1',
    now: Date.UTC(2026, 0, 10),
  });
  t.equal(first.metadata.commandId, 'v1', 'the command id given is kept for retries');
  t.equal(first.metadata.now, '2026-01-10T00:00:00.000Z');
  const committed = await w.send(first);
  t.equal(
    committed[0]?.type === 'VersionCommitted' && committed[0].data.size,
    1000,
    'the service indexes the size from the signed record',
  );
  await t.rejects(
    w.send(commitVersionCommand({ ...version(2, null) })),
    { constructor: ConflictError, code: DomainErrorCode.parentNotHead },
    'a version on a parent that is not the head is refused',
  );
  await t.rejects(
    w.send(
      commitVersionCommand({
        ...version(2, 1),
        signer: b1,
        signerUserId: 'bob',
        signerDeviceId: 'b1',
      }),
    ),
    ForbiddenError,
    'a reader cannot commit',
  );
  t.same(await w.types(commitVersionCommand(version(2, 1))), ['VersionCommitted']);
  t.same(
    await w.types(
      moveDocumentCommand({
        ...signed(),
        link: w.link(ds),
        epoch: 0,
        version: 2,
        encryptedMetadata: metadata(2, 'Protokoll final.pdf'),
      }),
    ),
    ['DocumentMoved'],
  );
  t.same(await w.types(deleteDocumentCommand({ ...signed(), link: w.link(ds) })), [
    'DocumentDeleted',
  ]);
  t.same(await w.types(restoreDocumentCommand({ ...signed(), link: w.link(ds) })), [
    'DocumentRestored',
  ]);
  t.same(await w.types(eraseDocumentCommand({ ...signed(), link: w.link(ds) })), [
    'DocumentErased',
  ]);

  const userHead = w.head('user-t1-alice');
  const headHex = Buffer.from(userHead.hash).toString('hex');
  t.same(
    await w.types(
      headsSeenCommand({
        tenantId,
        userId: 'alice',
        deviceId: 'a1',
        tenantPosition: 2,
        link: nextLink({ length: userHead.length, hash: headHex }),
        heads: [{ stream: ds, ...w.head(ds) }],
        signer: a1,
      }),
    ),
    ['HeadsSeen'],
  );
});

t.test('nextLink reads an API chain head', async (t) => {
  t.same(nextLink({ length: 0, hash: '' }), { sequence: 0, previousHash: new Uint8Array(64) });
  t.same(nextLink({ length: 2, hash: 'ab'.repeat(64) }), {
    sequence: 2,
    previousHash: new Uint8Array(64).fill(0xab),
  });
  t.throws(() => nextLink({ length: 2, hash: 'xyz' }), TypeError);
});
