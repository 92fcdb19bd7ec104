// The record builders' output, read the way the service reads it (JSON → commandFromJson) and
// decided by the domain's deciders with the real crypto verifier: what the builders make is
// what the domain accepts, and a record signed by the wrong key is refused.
import t from 'tap';
import {
  createEnrolmentCode,
  createEnrolmentRequest,
  createRecordVerifier,
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
  sodium,
} from '@ratsfach/crypto';
import {
  commandFromJson,
  decodeEvent,
  deciders,
  DomainErrorCode,
  encodeEvent,
  foldStream,
  loadContext,
  routeCommand,
  streamOfCommand,
  type CommitteeState,
  type DomainCommand,
  type DomainEvent,
} from '@ratsfach/domain';
import {
  changeMembershipCommand,
  coSignMembershipCommand,
  createCommitteeCommand,
  liftLegalHoldCommand,
  placeLegalHoldCommand,
  setRetentionCommand,
} from '../src/records/committeeRecords.js';
import {
  certifyAdminDeviceCommand,
  countersignCheckpointCommand,
  createTenantCommand,
  heartbeatCommand,
  revokeAdminDeviceCommand,
} from '../src/records/tenantRecords.js';
import { nextLink, recordOf, toCommandJson } from '../src/records/toCommandJson.js';
import {
  certifyDeviceCommand,
  certifyEnrolledDeviceCommand,
  confirmDeviceCommand,
  createUserCommand,
  revokeDeviceCommand,
} from '../src/records/userRecords.js';

await cryptoReady();

const tenantId = 't1';
const hex = (bytes: Uint8Array) => sodium().to_hex(bytes);

/** An in-memory log that decides each command the way the service's CommandHandler does. */
class World {
  readonly log = new Map<string, DomainEvent[]>();
  readonly verifier = createRecordVerifier();

  state(stream: string) {
    return foldStream(stream, this.log.get(stream) ?? []);
  }

  /** The API's view of a chain head: length and hex hash of the last record. */
  head(stream: string) {
    const chain = (this.state(stream) as { chain?: { length: number; head: Uint8Array } }).chain;
    return chain === undefined
      ? { length: 0, hash: '' }
      : { length: chain.length, hash: hex(chain.head) };
  }

  link(stream: string) {
    return nextLink(this.head(stream));
  }

  /** JSON body in, as the service reads it; decided; events round-tripped and appended. */
  async submit(body: unknown): Promise<string[]> {
    const command: DomainCommand = commandFromJson(JSON.parse(JSON.stringify(body)));
    const stream = streamOfCommand(command);
    const decider = deciders[routeCommand(command).kind] as unknown as {
      decide(command: DomainCommand, state: unknown, context: unknown): DomainEvent[];
    };
    const context = await loadContext(command, this.verifier, async (name) => this.state(name));
    const events = decider.decide(command, this.state(stream), context);
    this.log.set(stream, [
      ...(this.log.get(stream) ?? []),
      ...events.map((event) => decodeEvent(encodeEvent(event))),
    ]);
    return events.map((event) => event.type);
  }
}

t.test('the domain accepts what the tenant, user and committee builders sign', async (t) => {
  const w = new World();
  const root = generateSigningKeyPair();
  const admin = generateDeviceKeys();
  const staff = generateDeviceKeys();
  const reader = generateDeviceKeys();
  const options = { now: Date.parse('2026-01-10T10:00:00Z') };
  const ts = 'tenant-t1';

  t.same(
    await w.submit(createTenantCommand({ tenantId, createdAt: 1_767_000_000, root }, options)),
    ['TenantCreated'],
  );
  t.same(
    await w.submit(
      certifyAdminDeviceCommand({
        tenantId,
        userId: 'admin',
        deviceId: 'adm1',
        signingKey: admin.signing.publicKey,
        kemKey: admin.kem.publicKey,
        notBefore: 1_767_000_000,
        notAfter: 1_800_000_000,
        link: w.link(ts),
        root,
      }),
    ),
    ['AdminDeviceCertified'],
  );
  const tenantPosition = 2;
  const asAdmin = { tenantId, tenantPosition, signerDeviceId: 'adm1', signer: admin.signing };
  t.same(await w.submit(createUserCommand({ ...asAdmin, userId: 'alice' })), ['UserCreated']);
  t.same(await w.submit(createUserCommand({ ...asAdmin, userId: 'bob' })), ['UserCreated']);

  // Alice's first device enrols with a code; the admin device checks the MAC and certifies.
  const code = createEnrolmentCode(root.publicKey);
  const request = createEnrolmentRequest(
    code,
    { tenantId, userId: 'alice', deviceId: 'a1' },
    staff,
  );
  const terms = {
    issuedFor: { tenantId, userId: 'alice' },
    notBefore: 1_767_000_000,
    notAfter: 1_770_000_000,
    tenantPosition,
    link: w.link('user-t1-alice'),
  };
  t.throws(
    () =>
      certifyEnrolledDeviceCommand({
        request,
        code: createEnrolmentCode(root.publicKey),
        terms,
        signerDeviceId: 'adm1',
        signer: admin.signing,
      }),
    { code: 'RATSFACH_CRYPTO_ENROLMENT_MAC' },
    'a request under another code fails the MAC and nothing is signed',
  );
  const enrolled = certifyEnrolledDeviceCommand(
    { request, code, terms, signerDeviceId: 'adm1', signer: admin.signing },
    { commandId: 'enrol-a1' },
  );
  t.equal(enrolled.metadata.commandId, 'enrol-a1', 'the caller chooses the command id');
  t.match(enrolled.data, { userId: 'alice', deviceId: 'a1' });
  t.same(await w.submit(enrolled), ['DeviceCertified']);
  t.equal(
    w.head('user-t1-alice').hash,
    hex(hash512(recordOf(enrolled))),
    'the chain head is the hash of the exact signed bytes',
  );

  t.same(
    await w.submit(
      certifyDeviceCommand({
        ...asAdmin,
        userId: 'bob',
        deviceId: 'b1',
        signingKey: reader.signing.publicKey,
        kemKey: reader.kem.publicKey,
        notBefore: 1_767_000_000,
        notAfter: 1_770_000_000,
        enrolmentCodeId: null,
        link: w.link('user-t1-bob'),
      }),
    ),
    ['DeviceCertified'],
  );

  // Alice's second device, confirmed by her first.
  const laptop = generateDeviceKeys();
  await w.submit(
    certifyDeviceCommand({
      ...asAdmin,
      userId: 'alice',
      deviceId: 'a2',
      signingKey: laptop.signing.publicKey,
      kemKey: laptop.kem.publicKey,
      notBefore: 1_767_000_000,
      notAfter: 1_770_000_000,
      enrolmentCodeId: null,
      link: w.link('user-t1-alice'),
    }),
  );
  t.same(
    await w.submit(
      confirmDeviceCommand({
        tenantId,
        userId: 'alice',
        deviceId: 'a2',
        fingerprint: fingerprint(laptop.signing.publicKey),
        tenantPosition,
        committeeId: null,
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        signer: staff.signing,
        link: w.link('user-t1-alice'),
      }),
    ),
    ['DeviceConfirmed'],
  );

  const cs = 'committee-t1-council';
  const inCommittee = { ...asAdmin, committeeId: 'council' };
  t.same(await w.submit(createCommitteeCommand(inCommittee)), ['CommitteeCreated']);
  t.same(
    await w.submit(
      changeMembershipCommand({
        ...inCommittee,
        userId: 'alice',
        change: 'add',
        role: 'staff',
        link: w.link(cs),
      }),
    ),
    ['MembershipChanged'],
  );
  const committee = w.state(cs) as Extract<CommitteeState, { status: 'active' }>;
  const alice = committee.members.alice;
  if (alice === undefined) throw new Error('alice is no member');
  t.same(
    await w.submit(
      coSignMembershipCommand({
        tenantId,
        committeeId: 'council',
        tenantPosition,
        userId: 'alice',
        membershipSequence: alice.membershipSequence,
        membershipHash: alice.membershipHash,
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        signer: staff.signing,
        link: w.link(cs),
      }),
    ),
    ['MembershipCoSigned'],
  );
  t.same(
    await w.submit(
      setRetentionCommand({
        tenantId,
        committeeId: 'council',
        tenantPosition,
        retentionDays: 30,
        signerUserId: 'alice',
        signerDeviceId: 'a1',
        signer: staff.signing,
        link: w.link(cs),
      }),
    ),
    ['RetentionSet'],
  );
  const hold = { ...inCommittee, documentId: null, reference: 'Az. 1/2026' };
  t.same(await w.submit(placeLegalHoldCommand({ ...hold, link: w.link(cs) })), ['LegalHoldPlaced']);
  t.same(await w.submit(liftLegalHoldCommand({ ...hold, link: w.link(cs) })), ['LegalHoldLifted']);

  const aliceChain = w.state('user-t1-alice') as { chain: { head: Uint8Array } };
  const userHeads = { alice: aliceChain.chain.head };
  const committeeHead = w.state(cs) as { chain: { length: number; head: Uint8Array } };
  t.same(
    await w.submit(
      heartbeatCommand({
        tenantId,
        signerDeviceId: 'adm1',
        time: 1_768_000_000,
        userHeads,
        committeeHeads: {
          council: { length: committeeHead.chain.length, hash: committeeHead.chain.head },
        },
        link: w.link(ts),
        signer: admin.signing,
      }),
    ),
    ['Heartbeat'],
  );
  t.same(
    await w.submit(
      countersignCheckpointCommand({
        tenantId,
        signerDeviceId: 'adm1',
        treeSize: 12,
        rootHash: new Uint8Array(64),
        serviceSignature: new Uint8Array(64),
        link: w.link(ts),
        signer: admin.signing,
      }),
    ),
    ['Checkpoint'],
  );
  t.same(
    await w.submit(
      revokeDeviceCommand({
        ...asAdmin,
        userId: 'bob',
        deviceId: 'b1',
        fingerprint: fingerprint(reader.signing.publicKey),
        reason: 'lost tablet',
        link: w.link('user-t1-bob'),
      }),
    ),
    ['DeviceRevoked'],
  );
  const second = generateDeviceKeys();
  t.same(
    await w.submit(
      certifyAdminDeviceCommand({
        tenantId,
        userId: 'admin',
        deviceId: 'adm2',
        signingKey: second.signing.publicKey,
        kemKey: second.kem.publicKey,
        notBefore: 1_767_000_000,
        notAfter: 1_800_000_000,
        link: w.link(ts),
        root,
      }),
    ),
    ['AdminDeviceCertified'],
  );
  t.same(
    await w.submit(
      revokeAdminDeviceCommand({
        tenantId,
        deviceId: 'adm2',
        fingerprint: fingerprint(second.signing.publicKey),
        reason: 'retired',
        link: w.link(ts),
        root,
      }),
    ),
    ['AdminDeviceRevoked'],
  );
});

t.test('the domain refuses what the builders sign with the wrong key or link', async (t) => {
  const w = new World();
  const root = generateSigningKeyPair();
  const admin = generateDeviceKeys();
  await w.submit(createTenantCommand({ tenantId, createdAt: 1_767_000_000, root }));
  const certificate = (link = w.link('tenant-t1'), signer = root) =>
    certifyAdminDeviceCommand({
      tenantId,
      userId: 'admin',
      deviceId: 'adm1',
      signingKey: admin.signing.publicKey,
      kemKey: admin.kem.publicKey,
      notBefore: 1_767_000_000,
      notAfter: 1_800_000_000,
      link,
      root: signer,
    });
  await t.rejects(
    w.submit(certificate(w.link('tenant-t1'), admin.signing)),
    { code: DomainErrorCode.signerNotRoot },
    'an admin certificate not signed by the root',
  );
  await t.rejects(
    w.submit(certificate({ sequence: 0, previousHash: new Uint8Array(64) })),
    { code: DomainErrorCode.chainStale },
    'a record that does not extend the chain head',
  );
  await w.submit(certificate());
  await t.rejects(
    w.submit(
      createUserCommand({
        tenantId,
        userId: 'mallory',
        tenantPosition: 2,
        signerDeviceId: 'adm1',
        signer: generateSigningKeyPair(),
      }),
    ),
    { code: DomainErrorCode.signerMismatch },
    'a user record signed by a key that is not the named admin device',
  );
});

t.test('nextLink reads the head the API reports; toCommandJson fills the metadata', async (t) => {
  t.same(nextLink({ length: 0, hash: '' }), { sequence: 0, previousHash: new Uint8Array(64) });
  const head = 'ab'.repeat(64);
  const link = nextLink({ length: 3, hash: head });
  t.equal(link.sequence, 3);
  t.equal(hex(link.previousHash), head);
  t.throws(() => nextLink({ length: 3, hash: '' }), TypeError, 'a non-empty chain needs a hash');
  t.throws(() => nextLink({ length: 1, hash: 'AB'.repeat(64) }), TypeError, 'lowercase hex only');

  const body = toCommandJson('CreateTenant', { tenantId, record: new Uint8Array([1, 2, 3]) });
  t.match(body.metadata.commandId, /^[0-9a-f-]{36}$/, 'a random UUID by default');
  t.ok(Math.abs(Date.parse(body.metadata.now) - Date.now()) < 60_000, 'now by default');
  t.equal(body.data.record, 'AQID', 'the record as unpadded base64url');
  t.same(recordOf(body), new Uint8Array([1, 2, 3]));
});
