// Runs the deciders on records signed and verified by the real @ratsfach/crypto, so the record
// bodies the domain reads stay in step with the codec (crypto depends on the kernel only, so
// the domain can take it as a dev dependency).
import t from 'tap';
import {
  createRecordVerifier,
  cryptoReady,
  encryptMetadata,
  fingerprint,
  generateContentKey,
  generateSigningKeyPair,
  signRecord,
} from '@ratsfach/crypto';
import {
  ConflictError,
  DomainErrorCode,
  ForbiddenError,
  IntegrityError,
  decodeEvent,
  deciders,
  encodeEvent,
  foldStream,
  isRatsfachError,
  keyLength,
  loadContext,
  routeCommand,
  streamOfCommand,
} from '../src/index.js';
import type { CommitteeState, DomainCommand, DomainEvent, RecordVerifier } from '../src/index.js';

const tenantId = 't1';
const cs = 'committee-t1-council';
const ds = 'document-t1-doc1';
const kemKey = new Uint8Array(keyLength.kemPublicKey);

class World {
  readonly log = new Map<string, DomainEvent[]>();
  private count = 0;
  constructor(readonly verifier: RecordVerifier) {}

  link(stream: string) {
    const state = foldStream(stream, this.log.get(stream) ?? []) as {
      chain?: { length: number; head: Uint8Array };
    };
    return state.chain === undefined
      ? { sequence: 0, previousHash: new Uint8Array(64) }
      : { sequence: state.chain.length, previousHash: state.chain.head };
  }

  committeeHead() {
    const { sequence, previousHash } = this.link(cs);
    return { length: sequence, hash: previousHash };
  }

  metadata() {
    this.count += 1;
    return { commandId: `c${this.count}`, now: '2026-01-10T10:00:00.000Z' };
  }

  /** Loads the context, decides, round-trips the events through their bytes and appends them. */
  async exec(command: DomainCommand): Promise<DomainEvent[]> {
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
}

t.test('the deciders accept real signed records and refuse forged ones', async (t) => {
  await cryptoReady();
  const w = new World(createRecordVerifier());
  const root = generateSigningKeyPair();
  const adm = generateSigningKeyPair();
  const a1 = generateSigningKeyPair();
  const stranger = generateSigningKeyPair();

  const types = async (command: DomainCommand) =>
    (await w.exec(command)).map((event) => event.type);
  const refuses = async (
    command: DomainCommand,
    errorClass: new (...args: never[]) => Error,
    code: string,
    name: string,
  ) => {
    await t.rejects(w.exec(command), { constructor: errorClass, code }, name);
  };

  const created = await w.exec({
    type: 'CreateTenant',
    data: {
      tenantId,
      record: signRecord(
        'tenant-created',
        w.link('tenant-t1'),
        { tenantId, createdAt: 1_767_000_000 },
        root,
      ),
    },
    metadata: w.metadata(),
  });
  t.equal(
    created[0]?.type === 'TenantCreated' && created[0].data.rootFingerprint,
    fingerprint(root.publicKey),
    'the root is the genesis signer',
  );

  const certificate = (key: Uint8Array, signer = root) =>
    signRecord(
      'admin-device-certificate',
      w.link('tenant-t1'),
      {
        tenantId,
        userId: 'admin',
        deviceId: 'adm1',
        signingKey: key,
        kemKey,
        notBefore: 1_767_000_000,
        notAfter: 1_800_000_000,
      },
      signer,
    );
  await refuses(
    {
      type: 'CertifyAdminDevice',
      data: { tenantId, deviceId: 'adm1', record: certificate(adm.publicKey, stranger) },
      metadata: w.metadata(),
    },
    ForbiddenError,
    DomainErrorCode.signerNotRoot,
    'a certificate not signed by the root is refused',
  );
  const genuine = certificate(adm.publicKey);
  const forged = genuine.slice();
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
  const refusal = await w
    .exec({
      type: 'CertifyAdminDevice',
      data: { tenantId, deviceId: 'adm1', record: forged },
      metadata: w.metadata(),
    })
    .then(
      () => null,
      (error: unknown) => error,
    );
  t.equal(
    isRatsfachError(refusal) && refusal.kind,
    'integrity',
    'a record with a broken signature is refused by the verifier',
  );
  const certified = await w.exec({
    type: 'CertifyAdminDevice',
    data: { tenantId, deviceId: 'adm1', record: genuine },
    metadata: w.metadata(),
  });
  t.equal(
    certified[0]?.type === 'AdminDeviceCertified' && certified[0].data.fingerprint,
    fingerprint(adm.publicKey),
    'the domain fingerprints keys as crypto does',
  );

  t.same(
    await types({
      type: 'RecordHeartbeat',
      data: {
        tenantId,
        signerDeviceId: 'adm1',
        record: signRecord(
          'heartbeat',
          w.link('tenant-t1'),
          {
            tenantId,
            signerDeviceId: 'adm1',
            time: 1_768_000_000,
            userHeads: {},
            committeeHeads: {},
          },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['Heartbeat'],
  );
  t.same(
    await types({
      type: 'CreateUser',
      data: {
        tenantId,
        userId: 'alice',
        signerDeviceId: 'adm1',
        record: signRecord(
          'user-created',
          w.link('user-t1-alice'),
          { tenantId, userId: 'alice', tenantPosition: 3 },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['UserCreated'],
  );
  t.same(
    await types({
      type: 'CertifyDevice',
      data: {
        tenantId,
        userId: 'alice',
        deviceId: 'a1',
        signerDeviceId: 'adm1',
        record: signRecord(
          'device-certificate',
          w.link('user-t1-alice'),
          {
            tenantId,
            userId: 'alice',
            deviceId: 'a1',
            signingKey: a1.publicKey,
            kemKey,
            notBefore: 1_767_000_000,
            notAfter: 1_770_000_000,
            tenantPosition: 3,
            enrolmentCodeId: null,
          },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['DeviceCertified'],
  );
  t.same(
    await types({
      type: 'CreateCommittee',
      data: {
        tenantId,
        committeeId: 'council',
        signerDeviceId: 'adm1',
        record: signRecord(
          'committee-created',
          w.link(cs),
          { tenantId, committeeId: 'council', tenantPosition: 3 },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['CommitteeCreated'],
  );
  t.same(
    await types({
      type: 'ChangeMembership',
      data: {
        tenantId,
        committeeId: 'council',
        signerDeviceId: 'adm1',
        change: 'add',
        userId: 'alice',
        role: 'staff',
        record: signRecord(
          'membership',
          w.link(cs),
          {
            tenantId,
            committeeId: 'council',
            userId: 'alice',
            change: 'add',
            role: 'staff',
            tenantPosition: 3,
          },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['MembershipChanged'],
  );
  const committee = foldStream(cs, w.log.get(cs) ?? []) as Extract<
    CommitteeState,
    { status: 'active' }
  >;
  const member = committee.members.alice;
  if (member === undefined) throw new Error('alice is no member');
  t.same(
    await types({
      type: 'CoSignMembership',
      data: {
        tenantId,
        committeeId: 'council',
        userId: 'alice',
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        record: signRecord(
          'membership-cosignature',
          w.link(cs),
          {
            tenantId,
            committeeId: 'council',
            membershipSequence: member.membershipSequence,
            membershipHash: member.membershipHash,
            tenantPosition: 3,
          },
          a1,
        ),
      },
      metadata: w.metadata(),
    }),
    ['MembershipCoSigned'],
  );
  const wrappedKeys = [
    {
      recipient: fingerprint(a1.publicKey),
      kemCiphertext: new Uint8Array(keyLength.kemCiphertext),
      nonce: new Uint8Array(keyLength.aeadNonce),
      sealedKey: new Uint8Array(keyLength.sealedKey),
    },
  ];
  t.same(
    await types({
      type: 'StartKeyEpoch',
      data: {
        tenantId,
        committeeId: 'council',
        epoch: 0,
        recipients: [{ userId: 'alice', deviceId: 'a1' }],
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        record: signRecord(
          'key-epoch',
          w.link(cs),
          {
            tenantId,
            committeeId: 'council',
            epoch: 0,
            reason: 'initial',
            tenantPosition: 3,
            keyCommitment: new Uint8Array(64),
            previousKey: null,
            wrappedKeys,
          },
          a1,
        ),
      },
      metadata: w.metadata(),
    }),
    ['KeyEpochStarted'],
  );
  t.same(
    await types({
      type: 'CreateDocument',
      data: {
        tenantId,
        committeeId: 'council',
        documentId: 'doc1',
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        record: signRecord(
          'document-created',
          w.link(ds),
          {
            tenantId,
            committeeId: 'council',
            documentId: 'doc1',
            tenantPosition: 3,
            committeeHead: w.committeeHead(),
            epoch: 0,
          },
          a1,
        ),
      },
      metadata: w.metadata(),
    }),
    ['DocumentCreated'],
  );
  const contentKey = generateContentKey();
  const metadataOf = (version: number) =>
    encryptMetadata({
      contentKey,
      binding: { tenantId, documentId: 'doc1', version, epoch: 0 },
      metadata: {
        name: `Protokoll ${version}.pdf`,
        folderPath: ['Protokolle'],
        mimeType: 'application/pdf',
        createdAt: 1_774_000_000_000,
        modifiedAt: 1_774_000_000_000,
      },
    });
  const version = (
    parentVersion: number | null,
    version: number,
    committeeHead = w.committeeHead(),
  ) =>
    signRecord(
      'version',
      w.link(ds),
      {
        tenantId,
        committeeId: 'council',
        documentId: 'doc1',
        tenantPosition: 3,
        committeeHead,
        version,
        parentVersion,
        epoch: 0,
        contentHash: new Uint8Array(64).fill(1),
        size: 10,
        keySlotHash: new Uint8Array(64).fill(2),
        authorDeviceId: 'a1',
        encryptedMetadata: metadataOf(version),
      },
      a1,
    );
  const commit = (record: Uint8Array): DomainCommand => ({
    type: 'CommitVersion',
    data: { tenantId, documentId: 'doc1', signerUserId: 'alice', signerDeviceId: 'a1', record },
    metadata: w.metadata(),
  });
  const committed = await w.exec(commit(version(null, 1)));
  t.equal(
    committed[0]?.type === 'VersionCommitted' && committed[0].data.size,
    10,
    'the version is indexed from the signed record',
  );
  await refuses(
    commit(version(null, 2)),
    ConflictError,
    DomainErrorCode.parentNotHead,
    'a version on an old parent is refused',
  );
  await refuses(
    commit(version(1, 2, { length: 2, hash: new Uint8Array(64) })),
    ConflictError,
    DomainErrorCode.committeeStateStale,
    'a version against an old committee state is refused',
  );
  t.same(await types(commit(version(1, 2))), ['VersionCommitted']);
  const move = (version: number): DomainCommand => ({
    type: 'MoveDocument',
    data: {
      tenantId,
      documentId: 'doc1',
      signerUserId: 'alice',
      signerDeviceId: 'a1',
      record: signRecord(
        'document-moved',
        w.link(ds),
        {
          tenantId,
          committeeId: 'council',
          documentId: 'doc1',
          tenantPosition: 3,
          committeeHead: w.committeeHead(),
          epoch: 0,
          version,
          encryptedMetadata: metadataOf(version),
        },
        a1,
      ),
    },
    metadata: w.metadata(),
  });
  await refuses(
    move(1),
    ConflictError,
    DomainErrorCode.moveNotHead,
    'a move whose metadata is bound to an older version is refused',
  );
  t.same(await types(move(2)), ['DocumentMoved'], 'a move naming the head version is accepted');
  await refuses(
    {
      type: 'PlaceLegalHold',
      data: {
        tenantId,
        committeeId: 'council',
        documentId: 'doc1',
        signerDeviceId: 'adm1',
        record: signRecord(
          'legal-hold',
          w.link(cs),
          {
            tenantId,
            committeeId: 'council',
            documentId: 'doc2',
            active: true,
            reference: 'case 1',
            tenantPosition: 3,
          },
          adm,
        ),
      },
      metadata: w.metadata(),
    },
    IntegrityError,
    DomainErrorCode.recordMismatch,
    'a hold on another document than the command names is refused',
  );
  t.same(
    await types({
      type: 'RecordHeadsSeen',
      data: {
        tenantId,
        userId: 'alice',
        deviceId: 'a1',
        record: signRecord(
          'heads-seen',
          w.link('user-t1-alice'),
          {
            tenantId,
            userId: 'alice',
            deviceId: 'a1',
            tenantPosition: 3,
            heads: [{ stream: cs, length: 4, hash: new Uint8Array(64) }],
          },
          a1,
        ),
      },
      metadata: w.metadata(),
    }),
    ['HeadsSeen'],
  );
  t.same(
    await types({
      type: 'RecordCheckpoint',
      data: {
        tenantId,
        signerDeviceId: 'adm1',
        record: signRecord(
          'checkpoint-countersignature',
          w.link('tenant-t1'),
          {
            tenantId,
            signerDeviceId: 'adm1',
            treeSize: 20,
            rootHash: new Uint8Array(64),
            serviceSignature: new Uint8Array(64),
          },
          adm,
        ),
      },
      metadata: w.metadata(),
    }),
    ['Checkpoint'],
  );
});
