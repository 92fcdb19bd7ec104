import {
  type Decider,
  eventMetadata,
  type EventMetadata,
  parseStreamName,
  RecordPurpose,
} from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import {
  requireAdminSigner,
  requireMemberSigner,
  requireUser,
  requireUserDevice,
} from '../authorize.js';
import { Right } from '../committee/roles.js';
import { recordTail, requireOwnStream } from '../carried.js';
import { contextUser, requireCommitteeContext, requireTenantContext } from '../contextState.js';
import type { ActiveUser } from '../contextState.js';
import { assertNever, checkId, checkMetadata, checkRecordBytes } from '../../validate.js';
import type {
  CertifyDevice,
  ConfirmDevice,
  CreateUser,
  RecordHeadsSeen,
  RevokeDevice,
  UserCommand,
  UserEvent,
  UserState,
} from './userStream.js';

const requireUserState = (state: UserState, tenantId: string, userId: string): ActiveUser => {
  if (state.status !== 'active') throw domainErrors.userUnknown(userId);
  requireOwnStream('userId', [tenantId, userId], [state.tenantId, state.userId]);
  return state;
};

/** An admin device creates the user's stream. */
function createUser(
  { data: { tenantId, userId, signerDeviceId, record } }: CreateUser,
  state: UserState,
  context: DomainContext,
  metadata: EventMetadata,
): UserEvent[] {
  checkId('signerDeviceId', signerDeviceId);
  if (state.status !== 'absent') throw domainErrors.userExists(userId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.userCreated,
    emptyChain(),
    { tenantId, userId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const data = { tenantId, userId, signerDeviceId };
  return [{ type: 'UserCreated', data: recordTail(data, record, verified), metadata }];
}

/**
 * An admin device certifies a device of the user: a new device with a key none of the user's
 * devices has, or a renewal (same device, same key, in good standing, later expiry).
 */
function certifyDevice(
  { data: { tenantId, userId, deviceId, signerDeviceId, record } }: CertifyDevice,
  state: UserState,
  context: DomainContext,
  metadata: EventMetadata,
): UserEvent[] {
  checkId('deviceId', deviceId);
  checkId('signerDeviceId', signerDeviceId);
  const user = requireUserState(state, tenantId, userId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified, fields } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.deviceCertificate,
    user.chain,
    { tenantId, userId, deviceId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const fingerprint = context.verifier.fingerprint(fields.signingKey);
  const existing = user.devices[deviceId];
  if (existing !== undefined) {
    if (existing.revoked) throw domainErrors.deviceNotRenewable(deviceId);
    if (existing.fingerprint !== fingerprint) throw domainErrors.deviceKeyChanged(deviceId);
    if (fields.notAfter <= existing.notAfter) throw domainErrors.certificateNotNewer(deviceId);
  } else if (Object.values(user.devices).some((device) => device.fingerprint === fingerprint)) {
    throw domainErrors.deviceKeyTaken(userId, deviceId);
  }
  const { notBefore, notAfter } = fields;
  const data = { deviceId, fingerprint, notBefore, notAfter, signerDeviceId };
  return [{ type: 'DeviceCertified', data: recordTail(data, record, verified), metadata }];
}

/** An admin device revokes a certified device of the user, naming its key. */
function revokeDevice(
  { data: { tenantId, userId, deviceId, signerDeviceId, record } }: RevokeDevice,
  state: UserState,
  context: DomainContext,
  metadata: EventMetadata,
): UserEvent[] {
  checkId('deviceId', deviceId);
  checkId('signerDeviceId', signerDeviceId);
  const user = requireUserState(state, tenantId, userId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified, fields } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.deviceRevocation,
    user.chain,
    { tenantId, userId, deviceId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const device = user.devices[deviceId];
  if (device === undefined) throw domainErrors.deviceUnknown(deviceId, userId);
  if (fields.fingerprint !== device.fingerprint) throw domainErrors.recordMismatch('fingerprint');
  if (device.revoked) throw domainErrors.deviceAlreadyRevoked(deviceId, userId);
  const data = { deviceId, fingerprint: device.fingerprint, signerDeviceId };
  return [{ type: 'DeviceRevoked', data: recordTail(data, record, verified), metadata }];
}

/** A device of the user records the chain heads it has seen, all of streams of its tenant. */
function recordHeadsSeen(
  { data: { tenantId, userId, deviceId, record } }: RecordHeadsSeen,
  state: UserState,
  context: DomainContext,
  metadata: EventMetadata,
): UserEvent[] {
  checkId('deviceId', deviceId);
  const user = requireUserState(state, tenantId, userId);
  const { verified, fields } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.headsSeen,
    user.chain,
    { tenantId, userId, deviceId },
  );
  requireUserDevice(user, deviceId, verified, requireTenantContext(context, tenantId));
  if (fields.heads.length === 0) {
    throw domainErrors.commandMalformed('heads', 'name at least one chain head');
  }
  for (const head of fields.heads) {
    let tenant: string;
    try {
      tenant = parseStreamName(head.stream).tenant;
    } catch (error) {
      throw domainErrors.commandMalformed(
        'heads',
        `names an invalid stream ${JSON.stringify(head.stream)}`,
        error,
      );
    }
    if (tenant !== tenantId) {
      throw domainErrors.commandMalformed(
        'heads',
        `stream ${head.stream} belongs to another tenant`,
      );
    }
  }
  const heads = fields.heads.map(({ stream, length, hash }) => ({ stream, length, hash }));
  return [{ type: 'HeadsSeen', data: recordTail({ deviceId, heads }, record, verified), metadata }];
}

/**
 * A device vouches for a device of the user (FORMAT.md "Device confirmation"), as the devices
 * judge it: a valid device of the same user, not the device itself, naming no committee; or a
 * valid device of a staff member (wrapping right, membership in effect) of the committee it
 * names, for the user's first device only. The confirmed device must be certified and
 * unrevoked, and the record must name its key.
 */
function confirmDevice(
  { data }: ConfirmDevice,
  state: UserState,
  context: DomainContext,
  metadata: EventMetadata,
): UserEvent[] {
  const { tenantId, userId, deviceId, signerUserId, signerDeviceId, committeeId, record } = data;
  checkId('deviceId', deviceId);
  checkId('signerUserId', signerUserId);
  checkId('signerDeviceId', signerDeviceId);
  if (committeeId !== null) checkId('committeeId', committeeId);
  const user = requireUserState(state, tenantId, userId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified, fields } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.deviceConfirmation,
    user.chain,
    { tenantId, userId, deviceId, committeeId },
  );
  const device = user.devices[deviceId];
  if (device === undefined) throw domainErrors.deviceUnknown(deviceId, userId);
  if (device.revoked) throw domainErrors.deviceRevoked(deviceId, userId);
  if (fields.fingerprint !== device.fingerprint) throw domainErrors.recordMismatch('fingerprint');
  if (signerUserId === userId) {
    if (signerDeviceId === deviceId) {
      throw domainErrors.confirmationNotAllowed(userId, deviceId, 'a device cannot confirm itself');
    }
    if (committeeId !== null) {
      throw domainErrors.confirmationNotAllowed(
        userId,
        deviceId,
        "a confirmation by the user's own device names no committee",
      );
    }
    requireUserDevice(user, signerDeviceId, verified, tenant);
  } else {
    if (committeeId === null) {
      throw domainErrors.confirmationNotAllowed(
        userId,
        deviceId,
        `${signerUserId} is another user and must confirm as staff of a named committee`,
      );
    }
    if (device.firstDevice !== true) {
      throw domainErrors.confirmationNotAllowed(
        userId,
        deviceId,
        "it is not the user's first device; one of the user's own devices confirms it",
      );
    }
    const committee = requireCommitteeContext(context, tenantId, committeeId);
    const signer = requireUser(contextUser(context, signerUserId), signerUserId);
    requireMemberSigner(
      committee,
      signer,
      signerUserId,
      signerDeviceId,
      verified,
      Right.wrapKeys,
      tenant,
    );
  }
  const event = {
    deviceId,
    fingerprint: device.fingerprint,
    committeeId,
    signerUserId,
    signerDeviceId,
  };
  return [{ type: 'DeviceConfirmed', data: recordTail(event, record, verified), metadata }];
}

/** Decides commands of a user stream: the account, its device certificates, seen heads. */
export function decideUser(
  command: UserCommand,
  state: UserState,
  context: DomainContext,
): UserEvent[] {
  checkMetadata(command.metadata);
  checkId('tenantId', command.data.tenantId);
  checkId('userId', command.data.userId);
  checkRecordBytes(command.data.record);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'CreateUser':
      return createUser(command, state, context, metadata);
    case 'CertifyDevice':
      return certifyDevice(command, state, context, metadata);
    case 'RevokeDevice':
      return revokeDevice(command, state, context, metadata);
    case 'RecordHeadsSeen':
      return recordHeadsSeen(command, state, context, metadata);
    case 'ConfirmDevice':
      return confirmDevice(command, state, context, metadata);
    default:
      return assertNever(command);
  }
}

/** Folds one user event into the state. */
export function evolveUser(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserCreated') {
    return {
      status: 'active',
      tenantId: event.data.tenantId,
      userId: event.data.userId,
      devices: {},
      chain: advanceChain(emptyChain(), event.data.recordHash),
      headsSeen: {},
    };
  }
  if (state.status !== 'active') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  switch (event.type) {
    case 'DeviceCertified': {
      const { deviceId, fingerprint, notBefore, notAfter } = event.data;
      const existing = state.devices[deviceId];
      // A renewal keeps what the device was; a new device is the first when no other is live.
      const firstDevice =
        existing?.firstDevice ?? Object.values(state.devices).every((device) => device.revoked);
      return {
        ...state,
        chain,
        devices: {
          ...state.devices,
          [deviceId]: {
            deviceId,
            fingerprint,
            notBefore,
            notAfter,
            revoked: false,
            firstDevice,
            ...(existing?.confirmedBy === undefined ? {} : { confirmedBy: existing.confirmedBy }),
          },
        },
      };
    }
    case 'DeviceConfirmed': {
      const device = state.devices[event.data.deviceId];
      if (device === undefined) return { ...state, chain };
      const { signerUserId, signerDeviceId, committeeId } = event.data;
      const confirmedBy = [
        ...(device.confirmedBy ?? []),
        { signerUserId, signerDeviceId, committeeId },
      ];
      return {
        ...state,
        chain,
        devices: { ...state.devices, [device.deviceId]: { ...device, confirmedBy } },
      };
    }
    case 'DeviceRevoked': {
      const device = state.devices[event.data.deviceId];
      if (device === undefined) return { ...state, chain };
      return {
        ...state,
        chain,
        devices: { ...state.devices, [device.deviceId]: { ...device, revoked: true } },
      };
    }
    case 'HeadsSeen':
      return {
        ...state,
        chain,
        headsSeen: { ...state.headsSeen, [event.data.deviceId]: event.data.heads },
      };
    default:
      return assertNever(event);
  }
}

/** A user stream's decider. */
export const userDecider: Decider<UserCommand, UserEvent, UserState, DomainContext> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: () => ({ status: 'absent' }),
};
