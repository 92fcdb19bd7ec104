import {
  type CommandMetadata,
  type Decider,
  type MembershipChange,
  type SeenHead,
  parseStreamName,
  type RecordFieldValue,
  recordLabel,
  RecordPurpose,
  type RecordVerifier,
  StreamKind,
  streamName,
} from '@ratsfach/kernel';
import type { DomainContext } from '../streams/domainContext.js';
import {
  contextRequirements,
  deciders,
  routeCommand,
  streamOfCommand,
} from '../routing/deciders.js';
import type { DomainCommand, DomainEvent } from '../routing/deciders.js';
import { emptyChain } from '../chain.js';
import type { Chain } from '../chain.js';
import type {
  TenantState,
  CertifyAdminDevice,
  CreateTenant,
  RecordCheckpoint,
  RecordHeartbeat,
  RevokeAdminDevice,
} from '../streams/tenant/tenantStream.js';
import type {
  CertifyDevice,
  CreateUser,
  RecordHeadsSeen,
  ConfirmDevice,
  RevokeDevice,
  UserState,
} from '../streams/user/userStream.js';
import type {
  KeyRecipientRef,
  ChangeMembership,
  CoSignMembership,
  CommitteeState,
  CreateCommittee,
  LiftLegalHold,
  PlaceLegalHold,
  SetRetention,
  StartKeyEpoch,
  WrapEpochKeys,
} from '../streams/committee/committeeStream.js';
import type {
  CommitVersion,
  CreateDocument,
  DocumentState,
} from '../streams/document/documentStream.js';
import type { DeliveryFields, RecordDelivery } from '../streams/delivery/deliveryStream.js';
import type { MemberRole } from '../streams/committee/roles.js';
import {
  fakeFingerprint,
  fakeHash,
  fakeRecordVerifier,
  fakeSignRecord,
} from './fakeRecordVerifier.js';
import { given } from './givenWhenThen.js';
import { staffOf } from '../streams/committee/confirmedDevices.js';

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

/** The (fake) public signing key the scenario gives a device or the root. */
export const signingKeyOf = (deviceId: string): Uint8Array =>
  fakeHash(new TextEncoder().encode(`key ${deviceId}`)).slice(0, 32);

/** The fingerprint of that key, as the fake verifier names it in certificates and records. */
export const fingerprintOf = (deviceId: string): string => fakeFingerprint(signingKeyOf(deviceId));

/**
 * An in-memory world for domain tests: one tenant, streams as event lists, a command handler
 * that loads the context `contextRequirements` names, and builders that sign commands (with a
 * fake signer) against the current chain heads.
 */
export class Scenario {
  readonly tenantId = 't1';
  readonly rootFingerprint = fingerprintOf('root');
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
    const userIds = [...needs.userIds];
    if (needs.keyHolders && committee?.status === 'active') {
      for (const { userId } of committee.keyHolders)
        if (!userIds.includes(userId)) userIds.push(userId);
    }
    if (needs.staff) {
      const own =
        needs.committee === null
          ? this.committee((command.data as { committeeId: string }).committeeId)
          : committee;
      for (const userId of own === undefined ? [] : staffOf(own))
        if (!userIds.includes(userId)) userIds.push(userId);
    }
    return {
      verifier: this.verifier,
      ...(needs.tenant ? { tenant: this.tenant() } : {}),
      ...(userIds.length > 0
        ? { users: Object.fromEntries(userIds.map((id) => [id, this.user(id)])) }
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

  createTenant(o: SignOptions = {}, createdAt = 1_767_000_000): CreateTenant {
    const fields = { tenantId: this.tenantId, createdAt };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.tenantCreated,
      this.rootFingerprint,
      fields,
      o,
    );
    return {
      type: 'CreateTenant',
      data: { tenantId: this.tenantId, record },
      metadata: this.metadata(o),
    };
  }

  certifyAdminDevice(
    deviceId: string,
    o: SignOptions = {},
    { userId = 'admin', notAfter = 1_800_000_000, key = signingKeyOf(deviceId) } = {},
  ): CertifyAdminDevice {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      signingKey: key,
      kemKey: new Uint8Array(8),
      notBefore: 1_767_000_000,
      notAfter,
    };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.adminDeviceCertificate,
      this.rootFingerprint,
      fields,
      o,
    );
    return {
      type: 'CertifyAdminDevice',
      data: { tenantId: this.tenantId, deviceId, record },
      metadata: this.metadata(o),
    };
  }

  revokeAdminDevice(deviceId: string, o: SignOptions = {}): RevokeAdminDevice {
    const fields = {
      tenantId: this.tenantId,
      deviceId,
      fingerprint: fingerprintOf(deviceId),
      reason: 'lost',
    };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.adminDeviceRevocation,
      this.rootFingerprint,
      fields,
      o,
    );
    return {
      type: 'RevokeAdminDevice',
      data: { tenantId: this.tenantId, deviceId, record },
      metadata: this.metadata(o),
    };
  }

  recordHeartbeat(
    signerDeviceId: string,
    userHeads: Readonly<Record<string, Uint8Array>>,
    o: SignOptions = {},
    time = 1_768_000_000,
    committeeHeads: Readonly<Record<string, { length: number; hash: Uint8Array }>> = {},
  ): RecordHeartbeat {
    const fields = {
      tenantId: this.tenantId,
      signerDeviceId,
      time,
      userHeads,
      committeeHeads: committeeHeads as unknown as RecordFieldValue,
    };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.heartbeat,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'RecordHeartbeat',
      data: { tenantId: this.tenantId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  recordCheckpoint(
    signerDeviceId: string,
    treeSize: number,
    o: SignOptions = {},
  ): RecordCheckpoint {
    const fields = {
      tenantId: this.tenantId,
      signerDeviceId,
      treeSize,
      rootHash: fakeHash(new TextEncoder().encode(`tree ${treeSize}`)),
      serviceSignature: new Uint8Array(64).fill(7),
    };
    const record = this.sign(
      this.tenantStream(),
      RecordPurpose.checkpointCountersignature,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'RecordCheckpoint',
      data: { tenantId: this.tenantId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  // User streams.

  createUser(userId: string, o: SignOptions = {}, signerDeviceId = 'adm1'): CreateUser {
    const fields = { tenantId: this.tenantId, userId, tenantPosition: 2 };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.userCreated,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CreateUser',
      data: { tenantId: this.tenantId, userId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  certifyDevice(
    userId: string,
    deviceId: string,
    o: SignOptions = {},
    { notAfter = 1_770_000_000, signerDeviceId = 'adm1', key = signingKeyOf(deviceId) } = {},
  ): CertifyDevice {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      signingKey: key,
      kemKey: new Uint8Array(8),
      notBefore: 1_767_000_000,
      notAfter,
      tenantPosition: 2,
      enrolmentCodeId: null,
    };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.deviceCertificate,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'CertifyDevice',
      data: { tenantId: this.tenantId, userId, deviceId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  revokeDevice(
    userId: string,
    deviceId: string,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): RevokeDevice {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      fingerprint: fingerprintOf(deviceId),
      tenantPosition: 2,
      reason: 'lost',
    };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.deviceRevocation,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'RevokeDevice',
      data: { tenantId: this.tenantId, userId, deviceId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  recordHeadsSeen(
    userId: string,
    deviceId: string,
    heads: readonly SeenHead[],
    o: SignOptions = {},
  ): RecordHeadsSeen {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      tenantPosition: 2,
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
      data: { tenantId: this.tenantId, userId, deviceId, record },
      metadata: this.metadata(o),
    };
  }

  /**
   * `signerUserId`'s device `signerDeviceId` confirms `userId`'s device `deviceId`; with
   * `committeeId` as a staff device of that committee.
   */
  confirmDevice(
    userId: string,
    deviceId: string,
    signerUserId: string,
    signerDeviceId: string,
    committeeId: string | null = null,
    o: SignOptions = {},
  ): ConfirmDevice {
    const fields = {
      tenantId: this.tenantId,
      userId,
      deviceId,
      fingerprint: fingerprintOf(deviceId),
      tenantPosition: 2,
      committeeId,
    };
    const record = this.sign(
      this.userStream(userId),
      RecordPurpose.deviceConfirmation,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
    return {
      type: 'ConfirmDevice',
      data: {
        tenantId: this.tenantId,
        userId,
        deviceId,
        signerUserId,
        signerDeviceId,
        committeeId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  // Committee streams.

  private committeeRecord(
    committeeId: string,
    purpose: RecordPurpose,
    signerDeviceId: string,
    extra: Readonly<Record<string, RecordFieldValue>>,
    o: SignOptions,
  ): Uint8Array {
    const fields = { tenantId: this.tenantId, committeeId, tenantPosition: 2, ...extra };
    return this.sign(
      this.committeeStream(committeeId),
      purpose,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
  }

  createCommittee(
    committeeId: string,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): CreateCommittee {
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.committeeCreated,
      signerDeviceId,
      {},
      o,
    );
    return {
      type: 'CreateCommittee',
      data: { tenantId: this.tenantId, committeeId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  changeMembership(
    committeeId: string,
    change: MembershipChange,
    userId: string,
    role: MemberRole,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
  ): ChangeMembership {
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.membership,
      signerDeviceId,
      { userId, change, role },
      o,
    );
    return {
      type: 'ChangeMembership',
      data: { tenantId: this.tenantId, committeeId, signerDeviceId, change, userId, role, record },
      metadata: this.metadata(o),
    };
  }

  coSignMembership(
    committeeId: string,
    userId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): CoSignMembership {
    const committee = this.committee(committeeId);
    const member = committee.status === 'active' ? committee.members[userId] : undefined;
    // A pending promotion to staff is what a co-signature names, else the addition.
    const ref = {
      membershipSequence: member?.pendingStaff?.sequence ?? member?.membershipSequence ?? 0,
      membershipHash: member?.pendingStaff?.hash ?? member?.membershipHash ?? new Uint8Array(64),
    };
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.membershipCosignature,
      signerDeviceId,
      ref,
      o,
    );
    return {
      type: 'CoSignMembership',
      data: { tenantId: this.tenantId, committeeId, userId, signerUserId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  /** Fake wrapped keys for devices, as a key record holds them. */
  wrappedKeysFor(to: readonly KeyRecipientRef[]): RecordFieldValue {
    return to.map(({ deviceId }) => ({
      recipient: fingerprintOf(deviceId),
      kemCiphertext: new Uint8Array(4),
      nonce: new Uint8Array(24),
      sealedKey: new Uint8Array(48),
    }));
  }

  startKeyEpoch(
    committeeId: string,
    epoch: number,
    to: readonly KeyRecipientRef[],
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): StartKeyEpoch {
    const extra = {
      epoch,
      reason: epoch === 0 ? 'initial' : 'rotation',
      keyCommitment: new Uint8Array(64),
      previousKey: null,
      wrappedKeys: this.wrappedKeysFor(to),
    };
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.keyEpoch,
      signerDeviceId,
      extra,
      o,
    );
    return {
      type: 'StartKeyEpoch',
      data: {
        tenantId: this.tenantId,
        committeeId,
        epoch,
        recipients: to,
        signerUserId,
        signerDeviceId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  wrapEpochKeys(
    committeeId: string,
    epoch: number,
    to: readonly KeyRecipientRef[],
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): WrapEpochKeys {
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.epochKeys,
      signerDeviceId,
      { epoch, wrappedKeys: this.wrappedKeysFor(to) },
      o,
    );
    return {
      type: 'WrapEpochKeys',
      data: {
        tenantId: this.tenantId,
        committeeId,
        epoch,
        recipients: to,
        signerUserId,
        signerDeviceId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  setRetention(
    committeeId: string,
    retentionDays: number | null,
    o: SignOptions = {},
    signerDeviceId = 'adm1',
    signerUserId: string | null = null,
  ): SetRetention {
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.retention,
      signerDeviceId,
      { retentionDays },
      o,
    );
    return {
      type: 'SetRetention',
      data: {
        tenantId: this.tenantId,
        committeeId,
        signerUserId,
        signerDeviceId,
        retentionDays,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  private legalHold<T extends 'PlaceLegalHold' | 'LiftLegalHold'>(
    type: T,
    committeeId: string,
    o: SignOptions,
    documentId: string | null,
    signerDeviceId: string,
  ) {
    const extra = { documentId, active: type === 'PlaceLegalHold', reference: 'case 1' };
    const record = this.committeeRecord(
      committeeId,
      RecordPurpose.legalHold,
      signerDeviceId,
      extra,
      o,
    );
    return {
      type,
      data: { tenantId: this.tenantId, committeeId, documentId, signerDeviceId, record },
      metadata: this.metadata(o),
    };
  }

  placeLegalHold = (
    committeeId: string,
    o: SignOptions = {},
    documentId: string | null = null,
    signerDeviceId = 'adm1',
  ): PlaceLegalHold => this.legalHold('PlaceLegalHold', committeeId, o, documentId, signerDeviceId);
  liftLegalHold = (
    committeeId: string,
    o: SignOptions = {},
    documentId: string | null = null,
    signerDeviceId = 'adm1',
  ): LiftLegalHold => this.legalHold('LiftLegalHold', committeeId, o, documentId, signerDeviceId);

  // Document streams.

  /** Fields every document record holds, named against the current committee head. */
  private documentRecord(
    documentId: string,
    committeeId: string,
    purpose: RecordPurpose,
    signerDeviceId: string,
    extra: Readonly<Record<string, RecordFieldValue>>,
    o: SignOptions,
  ): Uint8Array {
    const committee = this.committee(committeeId);
    const chain = committee.status === 'active' ? committee.chain : emptyChain();
    const fields = {
      tenantId: this.tenantId,
      committeeId,
      documentId,
      tenantPosition: 2,
      committeeHead: { length: chain.length, hash: chain.head },
      ...extra,
    };
    return this.sign(
      this.documentStream(documentId),
      purpose,
      fingerprintOf(signerDeviceId),
      fields,
      o,
    );
  }

  private currentEpoch(committeeId: string): number {
    const committee = this.committee(committeeId);
    return committee.status === 'active' ? (committee.epoch ?? 0) : 0;
  }

  private committeeOf(documentId: string): string {
    const document = this.document(documentId);
    return document.status === 'absent' ? 'council' : document.committeeId;
  }

  createDocument(
    documentId: string,
    committeeId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): CreateDocument {
    const record = this.documentRecord(
      documentId,
      committeeId,
      RecordPurpose.documentCreated,
      signerDeviceId,
      { epoch: this.currentEpoch(committeeId) },
      o,
    );
    return {
      type: 'CreateDocument',
      data: {
        tenantId: this.tenantId,
        documentId,
        committeeId,
        signerUserId,
        signerDeviceId,
        record,
      },
      metadata: this.metadata(o),
    };
  }

  private headVersionOf(documentId: string): number {
    const document = this.document(documentId);
    return document.status === 'absent' ? 0 : document.headVersion;
  }

  /** The version body the scenario signs by default: the next version on the current state. */
  versionBody(
    documentId: string,
    signerDeviceId: string,
  ): Readonly<Record<string, RecordFieldValue>> {
    const document = this.document(documentId);
    const head = document.status === 'absent' ? 0 : document.headVersion;
    return {
      version: head + 1,
      parentVersion: head === 0 ? null : head,
      epoch: this.currentEpoch(this.committeeOf(documentId)),
      contentHash: fakeHash(new TextEncoder().encode(`${documentId} ${head + 1}`)),
      size: 1000,
      keySlotHash: fakeHash(new TextEncoder().encode(`slot ${documentId} ${head + 1}`)),
      authorDeviceId: signerDeviceId,
      encryptedMetadata: fakeHash(new TextEncoder().encode(`metadata ${documentId} ${head + 1}`)),
    };
  }

  commitVersion(
    documentId: string,
    signerUserId: string,
    signerDeviceId: string,
    o: SignOptions = {},
  ): CommitVersion {
    const committeeId = this.committeeOf(documentId);
    const record = this.documentRecord(
      documentId,
      committeeId,
      RecordPurpose.version,
      signerDeviceId,
      this.versionBody(documentId, signerDeviceId),
      o,
    );
    return {
      type: 'CommitVersion',
      data: { tenantId: this.tenantId, documentId, signerUserId, signerDeviceId, record },
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
    const committeeId = this.committeeOf(documentId);
    const extra: Readonly<Record<string, RecordFieldValue>> =
      type === 'MoveDocument'
        ? {
            epoch: this.currentEpoch(committeeId),
            version: this.headVersionOf(documentId),
            encryptedMetadata: new Uint8Array(16),
          }
        : {};
    const record = this.documentRecord(documentId, committeeId, purpose, signerDeviceId, extra, o);
    return {
      type,
      data: { tenantId: this.tenantId, documentId, signerUserId, signerDeviceId, record },
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
   * committee "council" (7 records) with alice as founding staff and bob as reader (both
   * co-signed; alice's a1 confirmed b1 for council), epoch 0 started for a1 and wrapped for b1.
   * Carol is certified but no member.
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
    this.exec(this.changeMembership('council', 'add', 'alice', 'staff'));
    this.exec(this.coSignMembership('council', 'alice', 'alice', 'a1'));
    this.exec(this.changeMembership('council', 'add', 'bob', 'reader'));
    this.exec(this.coSignMembership('council', 'bob', 'alice', 'a1'));
    // Only a confirmed device receives keys: alice, as staff, confirms bob's first device.
    this.exec(this.confirmDevice('bob', 'b1', 'alice', 'a1', 'council'));
    this.exec(
      this.startKeyEpoch('council', 0, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'),
    );
    this.exec(this.wrapEpochKeys('council', 0, [{ userId: 'bob', deviceId: 'b1' }], 'alice', 'a1'));
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
