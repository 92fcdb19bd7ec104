import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { DomainErrorCode } from '../../domainErrorCode.js';
import type { Decider } from '../../decider.js';
import type { DomainContext } from '../domainContext.js';
import { RecordPurpose } from '../../signedRecord.js';
import { checkRecord, recordMismatch } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import { eventMetadata } from '../../message.js';
import { requireAdminSigner, requireUserDevice } from '../authorize.js';
import { parseStreamName } from '../../streamName.js';
import {
  assertNever,
  checkId,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
  contextMissing,
} from '../../validate.js';
import type { TenantState } from '../tenant/tenantStream.js';
import type { UserCommand, UserEvent, UserState } from './userStream.js';

type ActiveUser = Extract<UserState, { status: 'active' }>;
type ActiveTenant = Extract<TenantState, { status: 'active' }>;

const requireUserState = (state: UserState, tenantId: string, userId: string): ActiveUser => {
  if (state.status !== 'active') {
    throw new NotFoundError(DomainErrorCode.userUnknown, `user ${userId} does not exist`, {
      hint: 'create the user first',
      details: { userId },
    });
  }
  if (state.tenantId !== tenantId || state.userId !== userId) {
    throw commandMalformed(
      'userId',
      `names ${tenantId}/${userId}, the stream belongs to ${state.tenantId}/${state.userId}`,
    );
  }
  return state;
};

/** The tenant from the context, refusing when it is missing or another tenant. */
export const requireTenantContext = (context: DomainContext, tenantId: string): ActiveTenant => {
  const tenant = context.tenant;
  if (tenant === undefined) throw contextMissing('the tenant state');
  if (tenant.status !== 'active' || tenant.tenantId !== tenantId) {
    throw new NotFoundError(DomainErrorCode.tenantUnknown, `tenant ${tenantId} does not exist`, {
      hint: 'create the tenant first',
      details: { tenantId },
    });
  }
  return tenant;
};

/** Decides commands of a user stream: the account, its device certificates, seen heads. */
export function decideUser(
  command: UserCommand,
  state: UserState,
  context: DomainContext,
): UserEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  const { verifier } = context;
  const { tenantId, userId, record } = command.data;
  checkId('tenantId', tenantId);
  checkId('userId', userId);
  checkRecordBytes(record);
  switch (command.type) {
    case 'CreateUser': {
      const { signerDeviceId } = command.data;
      checkId('signerDeviceId', signerDeviceId);
      if (state.status !== 'absent') {
        throw new ConflictError(DomainErrorCode.userExists, `user ${userId} exists already`, {
          hint: 'pick another user id',
          details: { userId },
        });
      }
      const tenant = requireTenantContext(context, tenantId);
      const { verified } = checkRecord(verifier, record, RecordPurpose.userCreated, emptyChain(), {
        tenantId,
        userId,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      return [
        {
          type: 'UserCreated',
          data: {
            tenantId,
            userId,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'CertifyDevice': {
      const { deviceId, signerDeviceId } = command.data;
      checkId('deviceId', deviceId);
      checkId('signerDeviceId', signerDeviceId);
      const user = requireUserState(state, tenantId, userId);
      const tenant = requireTenantContext(context, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.deviceCertificate,
        user.chain,
        {
          tenantId,
          userId,
          deviceId,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      const fingerprint = verifier.fingerprint(fields.signingKey);
      const existing = user.devices[deviceId];
      if (existing !== undefined) {
        // A renewal: same device, same key, still in good standing, later expiry.
        if (existing.revoked) {
          throw new ConflictError(
            DomainErrorCode.deviceRevoked,
            `device ${deviceId} is revoked and cannot be certified again`,
            {
              hint: 'enrol the device anew under a new device id',
              details: { deviceId },
            },
          );
        }
        if (existing.fingerprint !== fingerprint) {
          throw new ConflictError(
            DomainErrorCode.deviceExists,
            `device ${deviceId} is certified with another key`,
            {
              hint: 'a device keeps its key; enrol a new device id for a new key',
              details: { deviceId },
            },
          );
        }
        if (fields.notAfter <= existing.notAfter) {
          throw new ConflictError(
            DomainErrorCode.certificateNotNewer,
            `the renewal of device ${deviceId} does not extend its validity`,
            {
              hint: 'renew with a later notAfter',
              details: { deviceId },
            },
          );
        }
      } else if (Object.values(user.devices).some((device) => device.fingerprint === fingerprint)) {
        throw new ConflictError(
          DomainErrorCode.deviceExists,
          `another device of user ${userId} has this key`,
          {
            hint: 'every device has its own key',
            details: { deviceId },
          },
        );
      }
      return [
        {
          type: 'DeviceCertified',
          data: {
            deviceId,
            fingerprint,
            notBefore: fields.notBefore,
            notAfter: fields.notAfter,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RevokeDevice': {
      const { deviceId, signerDeviceId } = command.data;
      checkId('deviceId', deviceId);
      checkId('signerDeviceId', signerDeviceId);
      const user = requireUserState(state, tenantId, userId);
      const tenant = requireTenantContext(context, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.deviceRevocation,
        user.chain,
        {
          tenantId,
          userId,
          deviceId,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      const device = user.devices[deviceId];
      if (device === undefined) {
        throw new NotFoundError(
          DomainErrorCode.deviceUnknown,
          `device ${deviceId} is not certified for user ${userId}`,
          {
            hint: 'check the device id',
            details: { userId, deviceId },
          },
        );
      }
      if (fields.fingerprint !== device.fingerprint) throw recordMismatch('fingerprint');
      if (device.revoked) {
        throw new ConflictError(
          DomainErrorCode.deviceAlreadyRevoked,
          `device ${deviceId} is revoked already`,
          {
            hint: 'nothing to do',
            details: { userId, deviceId },
          },
        );
      }
      return [
        {
          type: 'DeviceRevoked',
          data: {
            deviceId,
            fingerprint: device.fingerprint,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RecordHeadsSeen': {
      const { deviceId } = command.data;
      checkId('deviceId', deviceId);
      const user = requireUserState(state, tenantId, userId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.headsSeen,
        user.chain,
        {
          tenantId,
          userId,
          deviceId,
        },
      );
      requireUserDevice(user, deviceId, verified, requireTenantContext(context, tenantId));
      if (fields.heads.length === 0)
        throw commandMalformed('heads', 'name at least one chain head');
      for (const head of fields.heads) {
        let tenant: string;
        try {
          tenant = parseStreamName(head.stream).tenant;
        } catch (error) {
          throw new ValidationError(
            DomainErrorCode.commandMalformed,
            `heads names an invalid stream ${JSON.stringify(head.stream)}`,
            {
              hint: 'name streams as <kind>-<tenant>-<id>',
              cause: error,
            },
          );
        }
        if (tenant !== tenantId)
          throw commandMalformed('heads', `stream ${head.stream} belongs to another tenant`);
      }
      return [
        {
          type: 'HeadsSeen',
          data: {
            deviceId,
            heads: fields.heads.map(({ stream, length, hash }) => ({ stream, length, hash })),
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
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
      return {
        ...state,
        chain,
        devices: {
          ...state.devices,
          [deviceId]: { deviceId, fingerprint, notBefore, notAfter, revoked: false },
        },
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
