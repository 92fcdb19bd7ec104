import {
  ConflictError,
  ErrorKind,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  type RatsfachError,
  ValidationError,
} from '@ratsfach/kernel';
import { DomainErrorCode } from './domainErrorCode.js';

type CodeName = keyof typeof DomainErrorCode;

/** What every refusal of one code shares: the kind (a service's status) and what to do next. */
export interface DomainErrorEntry {
  readonly kind: Exclude<ErrorKind, 'unavailable'>;
  /** One sentence for the reader; the same for every refusal with this code. */
  readonly hint: string;
}

const { validation, notFound, forbidden, conflict, integrity } = ErrorKind;

/**
 * The catalogue of domain refusals: for each stable code its kind and its one hint. The message
 * (what exactly was refused) comes from the factory in `domainErrors`; details carry the ids.
 */
export const domainErrorCatalogue = {
  // Encoding and decoding.
  canonicalUnsupported: {
    kind: validation,
    hint: 'use safe integers, strings, booleans, null, bigint, Uint8Array, arrays and plain objects whose keys do not start with $',
  },
  canonicalMalformed: {
    kind: integrity,
    hint: 'the stored bytes were not written by this encoder or were changed; run the event store verify and restore from backup',
  },
  eventTypeUnknown: {
    kind: validation,
    hint: 'the event type is not one this version of ratsfach knows: upgrade, or check which writer produced it',
  },
  eventVersionUnknown: {
    kind: validation,
    hint: 'the event version is not one this code reads: upgrade ratsfach, or check which writer produced it',
  },
  eventMalformed: {
    kind: integrity,
    hint: 'the stored event does not fit its type or stream; run the event store verify, and check which writer produced it',
  },
  eventInvalid: {
    kind: validation,
    hint: 'build events with the deciders, which produce only well-formed ones',
  },
  // Command input.
  commandMalformed: {
    kind: validation,
    hint: 'fix the named field; the domain README lists the fields of each command',
  },
  typeUnknown: { kind: validation, hint: 'send one of the command types the domain README lists' },
  metadataInvalid: {
    kind: validation,
    hint: 'give every command a client-chosen commandId of 1 to 128 characters (reused on retry) and `now` as new Date().toISOString()',
  },
  contextMissing: {
    kind: validation,
    hint: 'load the streams that contextRequirements(command) names and pass their states',
  },
  contextMismatch: {
    kind: validation,
    hint: 'load the committee the document belongs to, as contextRequirements(command) says',
  },
  keyListEmpty: {
    kind: validation,
    hint: 'an empty key list is an error, never "no encryption": wrap the key for at least one device',
  },
  // Signed records.
  recordLabelMismatch: { kind: integrity, hint: 'sign a record of the purpose this command needs' },
  recordMismatch: {
    kind: integrity,
    hint: 'send the indexed fields exactly as the device signed them',
  },
  recordFieldsInvalid: { kind: integrity, hint: 'encode the record with @ratsfach/crypto' },
  chainStale: {
    kind: conflict,
    hint: 'the stream changed since the record was signed: sync, re-sign against the current head and retry',
  },
  signerMismatch: { kind: integrity, hint: 'sign with the key of the device named as signer' },
  // Who may do what.
  signerNotRoot: {
    kind: forbidden,
    hint: 'sign it with the offline root key whose fingerprint the tenant was created with',
  },
  signerNotAdmin: {
    kind: forbidden,
    hint: 'have the root certify the admin device first, or sign on another admin device',
  },
  signerDeviceUnknown: {
    kind: forbidden,
    hint: 'have an admin device certify this device for its user first, or sign on a certified one',
  },
  deviceRevoked: {
    kind: forbidden,
    hint: 'a revoked device signs nothing more: sign on a device in good standing, or enrol a new one',
  },
  notAMember: {
    kind: forbidden,
    hint: 'an admin must add the user to the committee (and staff co-sign it) first',
  },
  membershipPending: {
    kind: forbidden,
    hint: 'ask a staff member of the committee to co-sign the membership',
  },
  roleLacksRight: {
    kind: forbidden,
    hint: 'ask a committee staff member to do this, or an admin to change the role',
  },
  selfCosign: {
    kind: forbidden,
    hint: 'another staff member of the committee must co-sign it',
  },
  confirmationNotAllowed: {
    kind: forbidden,
    hint: "confirm a new device from another device of the same person; only a person's first device is confirmed by a staff member, naming the committee",
  },
  recipientNotMember: {
    kind: forbidden,
    hint: 'wrap keys only for members whose addition a staff device co-signed',
  },
  recipientDeviceInvalid: {
    kind: forbidden,
    hint: 'wrap keys only for certified devices in good standing',
  },
  recipientNotConfirmed: {
    kind: forbidden,
    hint: "wrap keys only for confirmed devices: one of the person's confirmed devices confirms a new one (`ratsfach confirm`); a staff device of the committee confirms a person's first device",
  },
  signerNotConfirmed: {
    kind: forbidden,
    hint: "sign key and document records from a confirmed device: one of the person's confirmed devices confirms a new one (`ratsfach confirm`); a staff device of the committee confirms a person's first device",
  },
  certificateNotValid: {
    kind: forbidden,
    hint: 'renew the device certificate, then sign again',
  },
  // Stream state.
  tenantExists: { kind: conflict, hint: 'a tenant is created once; pick another tenant id' },
  tenantUnknown: {
    kind: notFound,
    hint: 'create the tenant with its root-signed genesis record first',
  },
  userExists: { kind: conflict, hint: 'pick another user id' },
  userUnknown: {
    kind: notFound,
    hint: 'create the user (and certify a device) first',
  },
  deviceUnknown: {
    kind: notFound,
    hint: 'check the device id: it names no device certified on this stream',
  },
  deviceExists: {
    kind: conflict,
    hint: 'every device has its own id and key, certified once; enrol a new device id for a new key',
  },
  deviceAlreadyRevoked: { kind: conflict, hint: 'nothing to do' },
  deviceNotRenewable: {
    kind: conflict,
    hint: 'a revoked device stays revoked: enrol the device anew under a new device id',
  },
  tenantPositionUnknown: {
    kind: conflict,
    hint: 'sync the tenant chain and sign against a position it has',
  },
  certificateNotNewer: { kind: conflict, hint: 'renew with a later notAfter' },
  checkpointNotNewer: { kind: conflict, hint: 'countersign a newer signed tree head' },
  committeeExists: { kind: conflict, hint: 'pick another committee id' },
  committeeUnknown: { kind: notFound, hint: 'create the committee first' },
  memberExists: {
    kind: conflict,
    hint: 'change the role instead of adding the member again',
  },
  memberUnknown: {
    kind: notFound,
    hint: 'an admin must add the user to the committee first',
  },
  roleUnchanged: { kind: conflict, hint: 'nothing to do' },
  membershipAlreadyCosigned: { kind: conflict, hint: 'nothing to do' },
  membershipChanged: {
    kind: conflict,
    hint: 'sync and co-sign the current membership record',
  },
  epochNotStarted: {
    kind: conflict,
    hint: "a staff member must start the committee's first key epoch before anything is written under it",
  },
  epochNotNext: { kind: conflict, hint: 'sync and start the next epoch' },
  epochNotCurrent: {
    kind: conflict,
    hint: 'sync the committee and sign again under its current key epoch',
  },
  epochRotationRequired: {
    kind: conflict,
    hint: 'start a new key epoch without the departed member or revoked device, then write under it',
  },
  legalHoldActive: {
    kind: conflict,
    hint: 'documents cannot be deleted or erased until an admin lifts the legal hold',
  },
  legalHoldAlreadyPlaced: { kind: conflict, hint: 'nothing to do' },
  legalHoldNotPlaced: { kind: conflict, hint: 'nothing to do' },
  retentionActive: {
    kind: conflict,
    hint: "delete the document and erase it once the committee's retention period has passed",
  },
  documentExists: { kind: conflict, hint: 'pick another document id' },
  documentUnknown: { kind: notFound, hint: 'create the document first' },
  documentDeleted: { kind: conflict, hint: 'restore the document first' },
  documentNotDeleted: { kind: conflict, hint: 'nothing to restore' },
  documentErased: {
    kind: conflict,
    hint: 'an erased document takes no further change; create a new document',
  },
  parentNotHead: {
    kind: conflict,
    hint: 'sync the document, merge with the head version and commit on top of it',
  },
  versionNotNext: { kind: conflict, hint: 'number the version head + 1' },
  moveNotHead: {
    kind: conflict,
    hint: 'commit a first version if there is none, else sync and encrypt the new metadata for the head version',
  },
  committeeStateStale: {
    kind: conflict,
    hint: 'sync the committee, check membership and epoch, and sign again',
  },
  deliveryWrongDay: {
    kind: validation,
    hint: 'append a delivery to the stream of its own UTC day',
  },
} as const satisfies { readonly [K in CodeName]: DomainErrorEntry };

const classes = {
  validation: ValidationError,
  not_found: NotFoundError,
  forbidden: ForbiddenError,
  conflict: ConflictError,
  integrity: IntegrityError,
} as const;

type ClassOf<K extends CodeName> = InstanceType<
  (typeof classes)[(typeof domainErrorCatalogue)[K]['kind']]
>;

/**
 * Builds the refusal of `name`: its stable code, its kind's class and its one hint from the
 * catalogue, with `message` saying what exactly was refused.
 */
export function domainError<K extends CodeName>(
  name: K,
  message: string,
  details?: Readonly<Record<string, unknown>>,
  cause?: unknown,
): ClassOf<K> {
  const { kind, hint } = domainErrorCatalogue[name];
  const ErrorClass: new (
    code: string,
    message: string,
    options: { hint: string; details?: Readonly<Record<string, unknown>>; cause?: unknown },
  ) => RatsfachError = classes[kind];
  const options = { hint, ...(details === undefined ? {} : { details }) };
  return new ErrorClass(
    DomainErrorCode[name],
    message,
    cause === undefined ? options : { ...options, cause },
  ) as ClassOf<K>;
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * One factory per refusal the domain makes. Deciders `throw domainErrors.x(...)`; nothing in
 * the domain builds its errors inline, so a code cannot drift to a second hint or kind.
 */
export const domainErrors = {
  // Encoding and decoding.
  eventTypeUnknown: (type: string) =>
    domainError('eventTypeUnknown', `unknown event type ${show(type)}`, { type }),
  eventNewerThanCode: (stored: string, current: number) =>
    domainError('eventVersionUnknown', `event ${stored} is newer than this code (v${current})`, {
      type: stored,
      current,
    }),
  eventVersionUnreadable: (stored: string, type: string, version: number) =>
    domainError('eventVersionUnknown', `no upcaster reads ${type}.v${version}`, { type: stored }),
  eventMalformed: (type: string, why: string, cause?: unknown) =>
    domainError('eventMalformed', `event ${type}: ${why}`, { type }, cause),
  eventOfOtherStream: (type: string, kind: string) =>
    domainError('eventMalformed', `event ${type} does not belong in a ${kind} stream`, {
      type,
      kind,
    }),
  eventInvalid: (type: string, problem: string) =>
    domainError('eventInvalid', `event ${type} does not fit its type: ${problem}`, { type }),
  // Command input.
  commandMalformed: (field: string, why: string, cause?: unknown) =>
    domainError('commandMalformed', `command field ${field}: ${why}`, { field }, cause),
  commandNotAnObject: () =>
    domainError('commandMalformed', 'a command is an object { type, data, metadata }'),
  commandShape: (type: string, problem: string) =>
    domainError('commandMalformed', `command ${type}: ${problem}`, { type }),
  typeUnknown: (type: unknown) =>
    domainError('typeUnknown', `unknown type ${show(type)}`, { type: show(type) }),
  commandIdInvalid: () =>
    domainError('metadataInvalid', 'command metadata needs a commandId of 1 to 128 characters'),
  commandTimeInvalid: () =>
    domainError('metadataInvalid', 'command metadata needs `now` as an ISO 8601 UTC time'),
  contextMissing: (what: string) =>
    domainError('contextMissing', `the decision needs ${what} in its context`, { missing: what }),
  contextMismatch: (loaded: string, committeeId: string) =>
    domainError(
      'contextMismatch',
      `the context holds committee ${loaded}, the decision concerns ${committeeId}`,
      { committeeId, loaded },
    ),
  keyListEmpty: () =>
    domainError('keyListEmpty', 'a key record must wrap the key for at least one device'),
  // Signed records.
  recordLabelMismatch: (label: string, expected: string) =>
    domainError(
      'recordLabelMismatch',
      `the record is labelled ${show(label)}, expected ${show(expected)}`,
      { label, expected },
    ),
  recordFieldsInvalid: (purpose: string, problem: string) =>
    domainError(
      'recordFieldsInvalid',
      `the ${purpose} record does not hold what it must: ${problem}`,
      { purpose },
    ),
  chainStale: (sequence: number, chainLength: number) =>
    domainError(
      'chainStale',
      `the record names chain position ${sequence}, the stream's chain is at ${chainLength}`,
      { sequence, chainLength },
    ),
  recordMismatch: (field: string) =>
    domainError(
      'recordMismatch',
      `the signed record's field ${show(field)} does not match the command`,
      { field },
    ),
  signerMismatch: (deviceId: string) =>
    domainError(
      'signerMismatch',
      `the record was not signed by the key certified for device ${deviceId}`,
      { deviceId },
    ),
  // Who may do what.
  signerNotRoot: () => domainError('signerNotRoot', 'only the tenant root may sign this record'),
  signerNotAdmin: (deviceId: string) =>
    domainError('signerNotAdmin', `device ${deviceId} is not a certified admin device`, {
      deviceId,
    }),
  signerDeviceUnknown: (userId: string, deviceId: string) =>
    domainError('signerDeviceUnknown', `device ${deviceId} is not certified for user ${userId}`, {
      userId,
      deviceId,
    }),
  deviceRevoked: (deviceId: string, userId?: string) =>
    domainError(
      'deviceRevoked',
      `${userId === undefined ? 'admin device' : 'device'} ${deviceId} is revoked`,
      userId === undefined ? { deviceId } : { userId, deviceId },
    ),
  notAMember: (userId: string, committeeId: string) =>
    domainError('notAMember', `user ${userId} is not a member of committee ${committeeId}`, {
      userId,
      committeeId,
    }),
  membershipPending: (userId: string, committeeId: string) =>
    domainError(
      'membershipPending',
      `the membership of user ${userId} in committee ${committeeId} awaits a staff co-signature`,
      { userId, committeeId },
    ),
  roleLacksRight: (userId: string, role: string, right: string) =>
    domainError('roleLacksRight', `role ${role} does not grant ${right}`, { userId, role, right }),
  confirmationNotAllowed: (userId: string, deviceId: string, reason: string) =>
    domainError(
      'confirmationNotAllowed',
      `device ${deviceId} of user ${userId} cannot be confirmed this way: ${reason}`,
      { userId, deviceId },
    ),
  selfCosign: (userId: string) =>
    domainError('selfCosign', `user ${userId} cannot co-sign their own membership`, { userId }),
  recipientNotMember: (userId: string, committeeId: string) =>
    domainError(
      'recipientNotMember',
      `user ${userId} is not a member in effect of committee ${committeeId}`,
      { userId },
    ),
  recipientDeviceInvalid: (userId: string, deviceId: string) =>
    domainError(
      'recipientDeviceInvalid',
      `device ${deviceId} of user ${userId} is not certified or is revoked`,
      { userId, deviceId },
    ),
  recipientNotConfirmed: (userId: string, deviceId: string, committeeId: string) =>
    domainError(
      'recipientNotConfirmed',
      `device ${deviceId} of user ${userId} is not confirmed for committee ${committeeId}`,
      { userId, deviceId, committeeId },
    ),
  signerNotConfirmed: (userId: string, deviceId: string, committeeId: string) =>
    domainError(
      'signerNotConfirmed',
      `device ${deviceId} of user ${userId} is not confirmed for committee ${committeeId}: it signs no key or document record`,
      { userId, deviceId, committeeId },
    ),
  certificateNotValid: (deviceId: string, position: number, time: number) =>
    domainError(
      'certificateNotValid',
      `the certificate of device ${deviceId} is not valid at tenant position ${position}`,
      { deviceId, position, time },
    ),
  tenantPositionUnknown: (position: unknown, length: number) =>
    domainError(
      'tenantPositionUnknown',
      `the record names tenant position ${String(position)}, the tenant chain has ${length}`,
      { position },
    ),
  // Stream state.
  tenantExists: (tenantId: string) =>
    domainError('tenantExists', `tenant ${tenantId} exists already`, { tenantId }),
  tenantUnknown: (tenantId: string) =>
    domainError('tenantUnknown', `tenant ${tenantId} does not exist`, { tenantId }),
  userExists: (userId: string) =>
    domainError('userExists', `user ${userId} exists already`, { userId }),
  userUnknown: (userId: string) =>
    domainError('userUnknown', `user ${userId} does not exist`, { userId }),
  adminDeviceTaken: (deviceId: string) =>
    domainError('deviceExists', `admin device ${deviceId} or its key is certified already`, {
      deviceId,
    }),
  deviceKeyChanged: (deviceId: string) =>
    domainError('deviceExists', `device ${deviceId} is certified with another key`, { deviceId }),
  deviceKeyTaken: (userId: string, deviceId: string) =>
    domainError('deviceExists', `another device of user ${userId} has this key`, { deviceId }),
  deviceUnknown: (deviceId: string, userId?: string) =>
    domainError(
      'deviceUnknown',
      userId === undefined
        ? `admin device ${deviceId} was never certified`
        : `device ${deviceId} is not certified for user ${userId}`,
      userId === undefined ? { deviceId } : { userId, deviceId },
    ),
  deviceAlreadyRevoked: (deviceId: string, userId?: string) =>
    domainError(
      'deviceAlreadyRevoked',
      `${userId === undefined ? 'admin device' : 'device'} ${deviceId} is revoked already`,
      userId === undefined ? { deviceId } : { userId, deviceId },
    ),
  deviceNotRenewable: (deviceId: string) =>
    domainError(
      'deviceNotRenewable',
      `device ${deviceId} is revoked and cannot be certified again`,
      { deviceId },
    ),
  certificateNotNewer: (deviceId: string) =>
    domainError(
      'certificateNotNewer',
      `the renewal of device ${deviceId} does not extend its validity`,
      { deviceId },
    ),
  checkpointNotNewer: (treeSize: number, current: number) =>
    domainError(
      'checkpointNotNewer',
      `checkpoint tree size ${treeSize} is not larger than ${current}`,
      { treeSize },
    ),
  committeeExists: (committeeId: string) =>
    domainError('committeeExists', `committee ${committeeId} exists already`, { committeeId }),
  committeeUnknown: (committeeId: string) =>
    domainError('committeeUnknown', `committee ${committeeId} does not exist`, { committeeId }),
  memberExists: (userId: string, committeeId: string) =>
    domainError('memberExists', `user ${userId} is a member of committee ${committeeId} already`, {
      userId,
      committeeId,
    }),
  memberUnknown: (userId: string, committeeId: string) =>
    domainError('memberUnknown', `user ${userId} is not a member of committee ${committeeId}`, {
      userId,
      committeeId,
    }),
  roleUnchanged: (userId: string, role: string) =>
    domainError('roleUnchanged', `user ${userId} holds role ${role} already`, { userId, role }),
  membershipAlreadyCosigned: (userId: string) =>
    domainError(
      'membershipAlreadyCosigned',
      `the membership of user ${userId} is co-signed already`,
      { userId },
    ),
  membershipChanged: (userId: string) =>
    domainError(
      'membershipChanged',
      `the co-signature does not name the membership record of user ${userId}`,
      { userId },
    ),
  epochNotStarted: (committeeId: string, epoch: number) =>
    domainError(
      'epochNotStarted',
      `committee ${committeeId} has no key epoch yet, the record names epoch ${epoch}`,
      { committeeId, epoch },
    ),
  epochNotNext: (epoch: number, current: number | null, next: number) =>
    domainError(
      'epochNotNext',
      `epoch ${epoch} does not follow the current epoch ${String(current)}`,
      { epoch, next },
    ),
  epochNotCurrent: (epoch: number, current: number | null) =>
    domainError('epochNotCurrent', `epoch ${epoch} is not the current epoch ${String(current)}`, {
      epoch,
      current,
    }),
  memberLeftRotationRequired: (committeeId: string) =>
    domainError(
      'epochRotationRequired',
      `a member left committee ${committeeId}: a new key epoch must start first`,
      { committeeId },
    ),
  holderRevokedRotationRequired: (userId: string, deviceId: string, fingerprint: string) =>
    domainError(
      'epochRotationRequired',
      `device ${deviceId} of user ${userId} holds the epoch key and was revoked: a new key epoch must start first`,
      { userId, deviceId, fingerprint },
    ),
  legalHoldActive: (committeeId: string, documentId: string) =>
    domainError('legalHoldActive', `document ${documentId} is under legal hold`, {
      committeeId,
      documentId,
    }),
  legalHoldAlreadyPlaced: (committeeId: string, documentId: string | null) =>
    domainError(
      'legalHoldAlreadyPlaced',
      `the legal hold on ${documentId ?? committeeId} is placed already`,
      { committeeId, documentId },
    ),
  legalHoldNotPlaced: (committeeId: string, documentId: string | null) =>
    domainError('legalHoldNotPlaced', `${documentId ?? committeeId} is not under legal hold`, {
      committeeId,
      documentId,
    }),
  retentionActive: (
    documentId: string,
    committeeId: string,
    retentionDays: number,
    keepUntil: string | null,
  ) =>
    domainError(
      'retentionActive',
      `document ${documentId} must be ${
        keepUntil === null ? 'deleted and kept for the retention period' : `kept until ${keepUntil}`
      } (committee ${committeeId} keeps deleted documents ${retentionDays} days)`,
      { documentId, committeeId, retentionDays, keepUntil },
    ),
  documentExists: (documentId: string) =>
    domainError('documentExists', `document ${documentId} exists already`, { documentId }),
  documentUnknown: (documentId: string) =>
    domainError('documentUnknown', `document ${documentId} does not exist`, { documentId }),
  documentDeleted: (documentId: string) =>
    domainError('documentDeleted', `document ${documentId} is deleted`, { documentId }),
  documentNotDeleted: (documentId: string) =>
    domainError('documentNotDeleted', `document ${documentId} is not deleted`, { documentId }),
  documentErased: (documentId: string) =>
    domainError('documentErased', `document ${documentId} is erased`, { documentId }),
  parentNotHead: (parentVersion: number | null, head: number | null) =>
    domainError(
      'parentNotHead',
      `the parent version ${String(parentVersion)} is not the head ${String(head)}`,
      { parentVersion, head },
    ),
  versionNotNext: (version: number, head: number) =>
    domainError('versionNotNext', `version ${version} does not follow the head ${head}`, {
      version,
      head,
    }),
  moveNotHead: (version: number, head: number) =>
    domainError(
      'moveNotHead',
      head === 0
        ? `the move names version ${version}, the document has no version yet`
        : `the move names version ${version}, the head is ${head}`,
      { version, head },
    ),
  committeeStateStale: (committeeId: string, named: number, current: number) =>
    domainError(
      'committeeStateStale',
      `the record was written against an older state of committee ${committeeId}`,
      { named, current },
    ),
  deliveryWrongDay: (deliveredAt: string, day: string) =>
    domainError(
      'deliveryWrongDay',
      `a delivery at ${deliveredAt} does not belong to the stream of day ${day}`,
      { deliveredAt, day },
    ),
} as const;
