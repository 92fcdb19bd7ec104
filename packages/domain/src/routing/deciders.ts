import { type Decider, StreamKind, streamName } from '@ratsfach/kernel';
import type { DomainContext } from '../streams/domainContext.js';
import { tenantDecider } from '../streams/tenant/tenantDecider.js';
import { userDecider } from '../streams/user/userDecider.js';
import { committeeDecider } from '../streams/committee/committeeDecider.js';
import { documentDecider } from '../streams/document/documentDecider.js';
import { deliveryDecider, deliveryDay } from '../streams/delivery/deliveryDecider.js';
import { assertNever } from '../validate.js';
import type { TenantCommand, TenantEvent, TenantState } from '../streams/tenant/tenantStream.js';
import type { UserCommand, UserEvent, UserState } from '../streams/user/userStream.js';
import type {
  CommitteeCommand,
  CommitteeEvent,
  CommitteeState,
} from '../streams/committee/committeeStream.js';
import type {
  DocumentCommand,
  DocumentEvent,
  DocumentState,
} from '../streams/document/documentStream.js';
import type {
  DeliveryCommand,
  DeliveryEvent,
  DeliveryState,
} from '../streams/delivery/deliveryStream.js';

/** Every command of every stream. */
export type DomainCommand =
  TenantCommand | UserCommand | CommitteeCommand | DocumentCommand | DeliveryCommand;
/** Every event of every stream. */
export type DomainEvent = TenantEvent | UserEvent | CommitteeEvent | DocumentEvent | DeliveryEvent;

/** Commands, events and state of each stream kind. */
export interface StreamTypes {
  tenant: { command: TenantCommand; event: TenantEvent; state: TenantState };
  user: { command: UserCommand; event: UserEvent; state: UserState };
  committee: { command: CommitteeCommand; event: CommitteeEvent; state: CommitteeState };
  document: { command: DocumentCommand; event: DocumentEvent; state: DocumentState };
  delivery: { command: DeliveryCommand; event: DeliveryEvent; state: DeliveryState };
}

/** The decider of a stream kind. */
export type StreamDecider<K extends StreamKind> = Decider<
  StreamTypes[K]['command'],
  StreamTypes[K]['event'],
  StreamTypes[K]['state'],
  DomainContext
>;

/** The decider of each stream kind, for a generic command handler. */
export const deciders: { readonly [K in StreamKind]: StreamDecider<K> } = {
  tenant: tenantDecider,
  user: userDecider,
  committee: committeeDecider,
  document: documentDecider,
  delivery: deliveryDecider,
};

const commandKinds = {
  CreateTenant: StreamKind.tenant,
  CertifyAdminDevice: StreamKind.tenant,
  RevokeAdminDevice: StreamKind.tenant,
  RecordHeartbeat: StreamKind.tenant,
  RecordCheckpoint: StreamKind.tenant,
  CreateUser: StreamKind.user,
  CertifyDevice: StreamKind.user,
  RevokeDevice: StreamKind.user,
  RecordHeadsSeen: StreamKind.user,
  ConfirmDevice: StreamKind.user,
  CreateCommittee: StreamKind.committee,
  ChangeMembership: StreamKind.committee,
  CoSignMembership: StreamKind.committee,
  StartKeyEpoch: StreamKind.committee,
  WrapEpochKeys: StreamKind.committee,
  SetRetention: StreamKind.committee,
  PlaceLegalHold: StreamKind.committee,
  LiftLegalHold: StreamKind.committee,
  CreateDocument: StreamKind.document,
  CommitVersion: StreamKind.document,
  MoveDocument: StreamKind.document,
  DeleteDocument: StreamKind.document,
  RestoreDocument: StreamKind.document,
  EraseDocument: StreamKind.document,
  RecordDelivery: StreamKind.delivery,
} as const satisfies { readonly [T in DomainCommand['type']]: StreamKind };

/** The kind of stream a command type is decided on. */
export const streamKindOfCommand = (type: DomainCommand['type']): StreamKind => commandKinds[type];

/** A command paired with its stream kind, so `deciders[kind].decide` accepts it. */
export type RoutedCommand = {
  [K in StreamKind]: { readonly kind: K; readonly command: StreamTypes[K]['command'] };
}[StreamKind];

/** Pairs a command with its stream kind (narrows the union for the matching decider). */
export function routeCommand(command: DomainCommand): RoutedCommand {
  switch (command.type) {
    case 'CreateTenant':
    case 'CertifyAdminDevice':
    case 'RevokeAdminDevice':
    case 'RecordHeartbeat':
    case 'RecordCheckpoint':
      return { kind: StreamKind.tenant, command };
    case 'CreateUser':
    case 'CertifyDevice':
    case 'RevokeDevice':
    case 'RecordHeadsSeen':
    case 'ConfirmDevice':
      return { kind: StreamKind.user, command };
    case 'CreateCommittee':
    case 'ChangeMembership':
    case 'CoSignMembership':
    case 'StartKeyEpoch':
    case 'WrapEpochKeys':
    case 'SetRetention':
    case 'PlaceLegalHold':
    case 'LiftLegalHold':
      return { kind: StreamKind.committee, command };
    case 'CreateDocument':
    case 'CommitVersion':
    case 'MoveDocument':
    case 'DeleteDocument':
    case 'RestoreDocument':
    case 'EraseDocument':
      return { kind: StreamKind.document, command };
    case 'RecordDelivery':
      return { kind: StreamKind.delivery, command };
    default:
      return assertNever(command);
  }
}

/**
 * The stream a command is decided on and appended to, named from the command's own tenant and
 * ids (throws ValidationError RATSFACH_STREAM_NAME_INVALID for ids of the wrong shape).
 */
export function streamOfCommand(command: DomainCommand): string {
  const routed = routeCommand(command);
  switch (routed.kind) {
    case 'tenant':
      return streamName(StreamKind.tenant, routed.command.data.tenantId);
    case 'user':
      return streamName(StreamKind.user, routed.command.data.tenantId, routed.command.data.userId);
    case 'committee':
      return streamName(
        StreamKind.committee,
        routed.command.data.tenantId,
        routed.command.data.committeeId,
      );
    case 'document':
      return streamName(
        StreamKind.document,
        routed.command.data.tenantId,
        routed.command.data.documentId,
      );
    case 'delivery':
      return streamName(
        StreamKind.delivery,
        routed.command.data.tenantId,
        deliveryDay(routed.command.data.deliveredAt),
      );
    default:
      return assertNever(routed);
  }
}

/** Which other streams a decision needs folded into its `DomainContext`. */
export interface ContextRequirements {
  /** Load `tenant-<t>` into `context.tenant`. */
  readonly tenant: boolean;
  /** Load `user-<t>-<id>` for each into `context.users[id]` (absent users fold to `absent`). */
  readonly userIds: readonly string[];
  /**
   * Load `committee-<t>-<id>` into `context.committee`. For document commands other than
   * CreateDocument the committee is the document's own: `'ofDocument'` means fold the
   * document stream first and load the committee it names.
   */
  readonly committee: { readonly committeeId: string } | 'ofDocument' | null;
  /**
   * Also load, into `context.users`, the user stream of every key holder of that committee's
   * current epoch (`committee.keyHolders`), so a write can see that one of their devices was
   * revoked and a new epoch is due.
   */
  readonly keyHolders: boolean;
  /**
   * Also load, into `context.users`, the user stream of every co-signed staff member of the
   * command's committee (the committee loaded above; for key records the command's own stream):
   * their devices' confirmations decide which devices may receive keys and which may sign key
   * and document records (`confirmedDevices`).
   */
  readonly staff: boolean;
  /** Pass the delivery stream's day as `context.day`. */
  readonly day: string | null;
}

const none: ContextRequirements = {
  tenant: false,
  userIds: [],
  committee: null,
  keyHolders: false,
  staff: false,
  day: null,
};

/** Says which streams' states a command's decision needs (the verifier is always needed). */
export function contextRequirements(command: DomainCommand): ContextRequirements {
  switch (command.type) {
    case 'CreateTenant':
    case 'CertifyAdminDevice':
    case 'RevokeAdminDevice':
    case 'RecordHeartbeat':
    case 'RecordCheckpoint':
      return none;
    case 'CreateUser':
    case 'CertifyDevice':
    case 'RevokeDevice':
    case 'RecordHeadsSeen':
    case 'CreateCommittee':
    case 'PlaceLegalHold':
    case 'LiftLegalHold':
      return { ...none, tenant: true };
    case 'ConfirmDevice':
      // The user's own device: the user stream itself. Another user's (staff) device: that
      // user's stream and the committee it confirms as staff of.
      return command.data.signerUserId === command.data.userId
        ? { ...none, tenant: true }
        : {
            ...none,
            tenant: true,
            userIds: [command.data.signerUserId],
            committee:
              command.data.committeeId === null ? null : { committeeId: command.data.committeeId },
          };
    case 'SetRetention':
      return command.data.signerUserId === null
        ? { ...none, tenant: true }
        : { ...none, tenant: true, userIds: [command.data.signerUserId] };
    case 'ChangeMembership':
      return { ...none, tenant: true, userIds: [command.data.userId] };
    case 'CoSignMembership':
      return { ...none, tenant: true, userIds: [command.data.signerUserId] };
    case 'StartKeyEpoch':
    case 'WrapEpochKeys':
      return {
        ...none,
        tenant: true,
        staff: true,
        userIds: [
          ...new Set([command.data.signerUserId, ...command.data.recipients.map((r) => r.userId)]),
        ],
      };
    case 'CreateDocument':
      return {
        ...none,
        tenant: true,
        userIds: [command.data.signerUserId],
        committee: { committeeId: command.data.committeeId },
        keyHolders: true,
        staff: true,
      };
    case 'CommitVersion':
    case 'MoveDocument':
      return {
        ...none,
        tenant: true,
        userIds: [command.data.signerUserId],
        committee: 'ofDocument',
        keyHolders: true,
        staff: true,
      };
    case 'DeleteDocument':
    case 'RestoreDocument':
    case 'EraseDocument':
      return {
        ...none,
        tenant: true,
        userIds: [command.data.signerUserId],
        committee: 'ofDocument',
        staff: true,
      };
    case 'RecordDelivery':
      return { ...none, day: deliveryDay(command.data.deliveredAt) };
    default:
      return assertNever(command);
  }
}
