import type { Decider } from '../decider.js';
import type { DomainContext } from '../domainContext.js';
import { contextRequirements, deciders, routeCommand, streamOfCommand } from '../deciders.js';
import type { DomainCommand, DomainEvent } from '../deciders.js';
import { parseStreamName, streamName, StreamKind } from '../streamName.js';
import { RecordPurpose, recordLabel } from '../signedRecord.js';
import type { RecordFieldValue, RecordVerifier } from '../signedRecord.js';
import { emptyChain } from '../chain.js';
import type { Chain } from '../chain.js';
import type {
  TenantState,
  CertifyAdminDevice,
  CreateTenant,
  RecordCheckpoint,
  RecordHeartbeat,
  RevokeAdminDevice,
} from '../tenantStream.js';
import type {
  CertifyDevice,
  CreateUser,
  RecordHeadsSeen,
  RevokeDevice,
  SeenHead,
  UserState,
} from '../userStream.js';
import type {
  ChangeMembership,
  CoSignMembership,
  CommitteeState,
  CreateCommittee,
  LiftLegalHold,
  MembershipChange,
  PlaceLegalHold,
  SetRetention,
  StartKeyEpoch,
  WrapEpochKeys,
} from '../committeeStream.js';
import type {
  CommitVersion,
  CreateDocument,
  DocumentState,
  VersionFields,
} from '../documentStream.js';
import type { DeliveryFields, RecordDelivery } from '../deliveryStream.js';
import type { MemberRole } from '../roles.js';
import type { CommandMetadata } from '../decider.js';
import { fakeHash, fakeRecordVerifier, fakeSignRecord } from './fakeRecordVerifier.js';
import { given } from './givenWhenThen.js';
import { legacyPartSize } from '../upcasters.js';

/** Ways to make a command's signed record (or metadata) wrong on purpose. */
export interface SignOptions {
  /** Sign with this fingerprint instead of the signer's. */
  readonly fingerprint?: string;
  readonly sequence?: number;
  readonly previousHash?: Uint8Array;
  readonly signatureValid?: boolean;
  /** Record fields that replace (or add to) the ones the command states. */
  readonly fields?: Readonly<Record<string, RecordFieldValue>>;
  /** Sign for another purpose than the command needs. */
  readonly purpose?: RecordPurpose;
  readonly now?: string;
}

type AnyDecider = Decider<DomainCommand, DomainEvent, unknown, DomainContext>;

/** The signing-key fingerprint the scenario gives a device. */
export const fingerprintOf = (deviceId: string): string => `fp_${deviceId}`;

/**
 * An in-memory world for domain tests: one tenant, streams as event lists, a command handler
 * that loads the context `contextRequirements` names, and builders that sign commands (with a
 * fake signer) against the current chain heads.
 */
export class Scenario {
  readonly tenantId = 't1';
  readonly rootFingerprint = 'fp_root';
  verifier: RecordVerifier = fakeRecordVerifier();
  now = '2026-01-10T10:00:00.000Z';
  private commandCount = 0;
  private readonly log = new Map<string, DomainEvent[]>();

  events(stream: string): DomainEvent[] {
    return [...(this.log.get(stream) ?? [])];
  }

  private deciderOf(stream: string): AnyDecider {
    return deciders[parseStreamName(stream).kind] as unknown as AnyDecider;
  }

  stateOf(stream: string): unknown {
    const decider = this.deciderOf(stream);
    return this.events(stream).reduce(
      (state, event) => decider.evolve(state, event),
      decider.initialState(),
    );
  }

  tenantStream = (): string => streamName(StreamKind.tenant, this.tenantId);
  userStream = (userId: string): string => streamName(StreamKind.user, this.tenantId, userId);
  committeeStream = (committeeId: string): string =>
    streamName(StreamKind.committee, this.tenantId, committeeId);
  documentStream = (documentId: string): string =>
    streamName(StreamKind.document, this.tenantId, documentId);

  tenant = (): TenantState => this.stateOf(this.tenantStream()) as TenantState;
  user = (userId: string): UserState => this.stateOf(this.userStream(userId)) as UserState;
  committee = (committeeId: string): CommitteeState =>
    this.stateOf(this.committeeStream(committeeId)) as CommitteeState;
  document = (documentId: string): DocumentState =>
    this.stateOf(this.documentStream(documentId)) as DocumentState;

  /** The context a command's decision needs, loaded from the in-memory streams. */
  context(command: DomainCommand): DomainContext {
    const needs = contextRequirements(command);
    let committee: CommitteeState | undefined;
    if (needs.committee === 'ofDocument') {
      const document = this.document((command.data as { documentId: string }).documentId);
      committee = document.status === 'absent' ? undefined : this.committee(document.committeeId);
    } else if (needs.committee !== null) {
      committee = this.committee(needs.committee.committeeId);
    }
    return {
      verifier: this.verifier,
      ...(needs.tenant ? { tenant: this.tenant() } : {}),
      ...(needs.userIds.length > 0
        ? { users: Object.fromEntries(needs.userIds.map((id) => [id, this.user(id)])) }
        : {}),
      ...(committee === undefined ? {} : { committee }),
      ...(needs.day === null ? {} : { day: needs.day }),
    };
  }

  /** given(events of the command's stream).when(command, its context), for then/thenRefuses. */
  gwt(command: DomainCommand) {
    const stream = streamOfCommand(command);
    return given(this.deciderOf(stream), this.events(stream)).when(command, this.context(command));
  }

  /** Decides and appends; throws what the decider throws. */
  exec(command: DomainCommand): DomainEvent[] {
    const stream = streamOfCommand(command);
    const routed = routeCommand(command);
    const decider = deciders[routed.kind] as unknown as AnyDecider;
    const events = [...decider.decide(command, this.stateOf(stream), this.context(command))];
    this.log.set(stream, [...this.events(stream), ...events]);
    return events;
  }

  private chainOf(stream: string): Chain {
    const state = this.stateOf(stream) as { chain?: Chain };
    return state.chain ?? emptyChain();
  }

  metadata(options: SignOptions = {}): CommandMetadata {
    this.commandCount += 1;
    return { commandId: `cmd_${this.commandCount}`, now: options.now ?? this.now };
  }

  /** Signs a fake record for `stream` at its current chain head. */
  sign(
    stream: string,
    purpose: RecordPurpose,
    fingerprint: string,
    fields: Readonly<Record<string, RecordFieldValue>>,
    options: SignOptions = {},
  ): Uint8Array {
    const chain = this.chainOf(stream);
    return fakeSignRecord({
      label: recordLabel(options.purpose ?? purpose),
      signerFingerprint: options.fingerprint ?? fingerprint,
      sequence: options.sequence ?? chain.length,
      previousHash: options.previousHash ?? chain.head,
      fields: { ...fields, ...options.fields },
      ...(options.signatureValid === undefined ? {} : { signatureValid: options.signatureValid }),
    });
  }

  // Tenant stream.

  createTenant(o: SignOptions = {}): CreateTenant {
    const data = { tenantId: this.tenantId, rootFingerprint: this.rootFingerprint };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.tenantCreated,
      this.rootFingerprint,
      data,
      o,
    );
    return { type: 'CreateTenant', data: { ...data, record }, metadata: this.metadata(o) };
  }

  certifyAdminDevice(
    deviceId: string,
    o: SignOptions = {},
    validUntil = '2027-01-01T00:00:00.000Z',
  ): CertifyAdminDevice {
    const data = {
      tenantId: this.tenantId,
      deviceId,
      fingerprint: fingerprintOf(deviceId),
      validUntil,
    };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.adminDeviceCertificate,
      this.rootFingerprint,
      data,
      o,
    );
    return { type: 'CertifyAdminDevice', data: { ...data, record }, metadata: this.metadata(o) };
  }

  revokeAdminDevice(deviceId: string, o: SignOptions = {}): RevokeAdminDevice {
    const data = { tenantId: this.tenantId, deviceId };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.adminDeviceRevocation,
      this.rootFingerprint,
      data,
      o,
    );
    return { type: 'RevokeAdminDevice', data: { ...data, record }, metadata: this.metadata(o) };
  }

  recordHeartbeat(
    signerDeviceId: string,
    userHeads: Readonly<Record<string, Uint8Array>>,
    o: SignOptions = {},
  ): RecordHeartbeat {
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.heartbeat,
      fingerprintOf(signerDeviceId),
      { tenantId: this.tenantId, userHeads },
      o,
    );
    return {
      type: 'RecordHeartbeat',
      data: { tenantId: this.tenantId, signerDeviceId, userHeads, record },
      metadata: this.metadata(o),
    };
  }

  recordCheckpoint(
    signerDeviceId: string,
    treeSize: bigint,
    o: SignOptions = {},
  ): RecordCheckpoint {
    const rootHash = fakeHash(new TextEncoder().encode(`tree ${treeSize}`));
    const fields = { tenantId: this.tenantId, treeSize, rootHash };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.checkpointCountersignature,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'RecordCheckpoint',
      data: { ...fields, serviceSignature: new Uint8Array([1, 2, 3]), signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  // User streams.

  createUser(userId: string, o: SignOptions = {}, signerDeviceId = 'adm1'): CreateUser {
    const fields = { tenantId: this.tenantId, userId };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.userCreated,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CreateUser',
      data: { ...fields, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  certifyDevice(
    userId: string,
    deviceId: string,
    o: SignOptions = {},
    validUntil = '2026-02-01T00:00:00.000Z',
    signerDeviceId = 'adm1',
    fingerprint = fingerprintOf(deviceId),
  ): CertifyDevice {
    const fields = { tenantId: this.tenantId, userId, deviceId, fingerprint, validUntil };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.deviceCertificate,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CertifyDevice',
      data: { ...fields, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  revokeDevice(
    userId: string,
    deviceId: string,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): RevokeDevice {
    const fields = { tenantId: this.tenantId, userId, deviceId };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.deviceRevocation,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'RevokeDevice',
      data: { ...fields, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  recordHeadsSeen(
    userId: string,
    deviceId: string,
    heads: Readonly<Record<string, SeenHead>>,
    o: SignOptions = {},
  ): RecordHeadsSeen {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      heads: heads as unknown as RecordFieldValue,
    };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.headsSeen,
      fingerprintOf(deviceId),
      fields,
      o,
    );
    return {
      type: 'RecordHeadsSeen',
      data: { tenantId: this.tenantId, userId, deviceId, heads, record },
      metadata: this.metadata(o),
    };
  }

  // Committee streams.

  private adminSigned(
    committeeId: string,
    purpose: RecordPurpose,
    extra: Readonly<Record<string, RecordFieldValue>>,
    o: SignOptions,
    signerDeviceId: string,
  ) {
    const fields = { tenantId: this.tenantId, committeeId, ...extra };
    const record = this.sign(
      this.committeeStream(committeeId),
      purpose,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return { tenantId: this.tenantId, committeeId, signerDeviceId, record };
  }

  createCommittee(
    committeeId: string,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): CreateCommittee {
    return {
      type: 'CreateCommittee',
      data: this.adminSigned(committeeId, RecordPurpose.committeeCreated, {}, o, signerDeviceId),
      metadata: this.metadata(o),
    };
  }

  changeMembership(
    committeeId: string,
    change: MembershipChange,
    userId: string,
    role: MemberRole | null,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): ChangeMembership {
    const base = this.adminSigned(
      committeeId,
      RecordPurpose.membership,
      { change, userId, role },
      o,
      signerDeviceId,
    );
    return {
      type: 'ChangeMembership',
      data: { ...base, change, userId, role },
      metadata: this.metadata(o),
    };
  }

  coSignMembership(
    committeeId: string,
    userId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
    membershipHash?: Uint8Array,
  ): CoSignMembership {
    const committee = this.committee(committeeId);
    const hash =
      membershipHash ??
      (committee.status === 'active' ? committee.members[userId]?.membershipHash : undefined) ??
      new Uint8Array(64);
    const fields = { tenantId: this.tenantId, committeeId, userId, membershipHash: hash };
    const record = this.sign(
      this.committeeStream(committeeId),
      RecordPurpose.membershipCosignature,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CoSignMembership',
      data: {
        tenantId: this.tenantId,
        committeeId,
        userId,
        membershipHash: hash,
        signerUserId,
        signerDeviceId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  startKeyEpoch(
    committeeId: string,
    epoch: number,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): StartKeyEpoch {
    const fields = { tenantId: this.tenantId, committeeId, epoch };
    const record = this.sign(
      this.committeeStream(committeeId),
      RecordPurpose.keyEpoch,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'StartKeyEpoch',
      data: { ...fields, signerUserId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  wrapEpochKeys(
    committeeId: string,
    epoch: number,
    to: readonly { readonly userId: string; readonly deviceId: string }[],
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): WrapEpochKeys {
    const recipients = to.map(({ userId, deviceId }) => ({
      userId,
      deviceId,
      wrappedKeyHash: fakeHash(new TextEncoder().encode(`${userId}/${deviceId}/${epoch}`)),
    }));
    const fields = { tenantId: this.tenantId, committeeId, epoch, recipients };
    const record = this.sign(
      this.committeeStream(committeeId),
      RecordPurpose.epochKeys,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'WrapEpochKeys',
      data: { ...fields, signerUserId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  setRetention(
    committeeId: string,
    retentionDays: number | null,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): SetRetention {
    const base = this.adminSigned(
      committeeId,
      RecordPurpose.retention,
      { retentionDays },
      o,
      signerDeviceId,
    );
    return { type: 'SetRetention', data: { ...base, retentionDays }, metadata: this.metadata(o) };
  }

  placeLegalHold(
    committeeId: string,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): PlaceLegalHold {
    return {
      type: 'PlaceLegalHold',
      data: this.adminSigned(
        committeeId,
        RecordPurpose.legalHold,
        { active: true },
        o,
        signerDeviceId,
      ),
      metadata: this.metadata(o),
    };
  }

  liftLegalHold(committeeId: string, o: SignOptions = {}, signerDeviceId = 'adm1'): LiftLegalHold {
    return {
      type: 'LiftLegalHold',
      data: this.adminSigned(
        committeeId,
        RecordPurpose.legalHold,
        { active: false },
        o,
        signerDeviceId,
      ),
      metadata: this.metadata(o),
    };
  }

  // Document streams.

  createDocument(
    documentId: string,
    committeeId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): CreateDocument {
    const fields = { tenantId: this.tenantId, documentId, committeeId };
    const record = this.sign(
      this.documentStream(documentId),
      RecordPurpose.documentCreated,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CreateDocument',
      data: { ...fields, signerUserId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  commitVersion(
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    overrides: Partial<VersionFields> = {},
    o: SignOptions = {},
  ): CommitVersion {
    const document = this.document(documentId);
    const committeeId = document.status === 'absent' ? 'none' : document.committeeId;
    const committee = this.committee(committeeId);
    const head = document.status === 'absent' ? 0 : document.headVersion;
    const chain = committee.status === 'active' ? committee.chain : emptyChain();
    const version: VersionFields = {
      version: head + 1,
      parentVersion: head === 0 ? null : head,
      epoch: committee.status === 'active' ? committee.epoch : 1,
      committeeSequence: chain.length,
      committeeHead: chain.head,
      contentHash: fakeHash(new TextEncoder().encode(`${documentId} ${head + 1}`)),
      size: 1000,
      partSize: legacyPartSize,
      ...overrides,
    };
    const fields = { tenantId: this.tenantId, documentId, committeeId, ...version };
    const record = this.sign(
      this.documentStream(documentId),
      RecordPurpose.version,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CommitVersion',
      data: {
        tenantId: this.tenantId,
        documentId,
        ...version,
        signerUserId,
        signerDeviceId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  private documentChange<
    T extends 'MoveDocument' | 'DeleteDocument' | 'RestoreDocument' | 'EraseDocument',
  >(
    type: T,
    purpose: RecordPurpose,
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions,
  ) {
    const fields = { tenantId: this.tenantId, documentId };
    const record = this.sign(
      this.documentStream(documentId),
      purpose,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type,
      data: { ...fields, signerUserId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  moveDocument = (
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ) =>
    this.documentChange(
      'MoveDocument',
      RecordPurpose.documentMoved,
      documentId,
      signerUserId,
      signerDeviceId,
      o,
    );
  deleteDocument = (
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ) =>
    this.documentChange(
      'DeleteDocument',
      RecordPurpose.documentDeleted,
      documentId,
      signerUserId,
      signerDeviceId,
      o,
    );
  restoreDocument = (
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ) =>
    this.documentChange(
      'RestoreDocument',
      RecordPurpose.documentRestored,
      documentId,
      signerUserId,
      signerDeviceId,
      o,
    );
  eraseDocument = (
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ) =>
    this.documentChange(
      'EraseDocument',
      RecordPurpose.documentErased,
      documentId,
      signerUserId,
      signerDeviceId,
      o,
    );

  // Delivery streams.

  recordDelivery(fields: Partial<DeliveryFields> = {}, o: SignOptions = {}): RecordDelivery {
    return {
      type: 'RecordDelivery',
      data: {
        tenantId: this.tenantId,
        committeeId: 'council',
        documentId: 'doc1',
        version: 1,
        userId: 'bob',
        deviceId: 'b1',
        deliveredAt: this.now,
        ...fields,
      },
      metadata: this.metadata(o),
    };
  }

  /**
   * A tenant with admin device adm1; users alice (device a1), bob (b1) and carol (cr1);
   * committee "council" with alice as founding staff and bob as reader (both co-signed),
   * epoch 1 started and wrapped for a1 and b1. Carol is certified but no member.
   */
  standard(): this {
    this.exec(this.createTenant());
    this.exec(this.certifyAdminDevice('adm1'));
    for (const [userId, deviceId] of [
      ['alice', 'a1'],
      ['bob', 'b1'],
      ['carol', 'cr1'],
    ] as const) {
      this.exec(this.createUser(userId));
      this.exec(this.certifyDevice(userId, deviceId));
    }
    this.exec(this.createCommittee('council'));
    this.exec(this.changeMembership('council', 'added', 'alice', 'staff'));
    this.exec(this.coSignMembership('council', 'alice', 'alice', 'a1'));
    this.exec(this.changeMembership('council', 'added', 'bob', 'reader'));
    this.exec(this.coSignMembership('council', 'bob', 'alice', 'a1'));
    this.exec(this.startKeyEpoch('council', 1, 'alice', 'a1'));
    this.exec(
      this.wrapEpochKeys(
        'council',
        1,
        [
          { userId: 'alice', deviceId: 'a1' },
          { userId: 'bob', deviceId: 'b1' },
        ],
        'alice',
        'a1',
      ),
    );
    return this;
  }

  /** `standard()` plus document doc1 in council with version 1 by alice. */
  withDocument(): this {
    this.standard();
    this.exec(this.createDocument('doc1', 'council', 'alice', 'a1'));
    this.exec(this.commitVersion('doc1', 'alice', 'a1'));
    return this;
  }
}
