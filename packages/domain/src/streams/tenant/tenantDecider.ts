import { ConflictError, NotFoundError } from '../../errors.js';
import { DomainErrorCode } from '../../domainErrorCode.js';
import type { Decider } from '../../decider.js';
import type { DomainContext } from '../domainContext.js';
import { RecordPurpose } from '../../signedRecord.js';
import { checkRecord, recordMismatch } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import { eventMetadata } from '../../message.js';
import { requireAdminSigner, requireRootSigner } from '../authorize.js';
import {
  assertNever,
  checkId,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
} from '../../validate.js';
import type { TenantCommand, TenantEvent, TenantState } from './tenantStream.js';

type ActiveTenant = Extract<TenantState, { status: 'active' }>;

const requireTenant = (state: TenantState, tenantId: string): ActiveTenant => {
  if (state.status !== 'active') {
    throw new NotFoundError(DomainErrorCode.tenantUnknown, `tenant ${tenantId} does not exist`, {
      hint: 'create the tenant with its root-signed genesis record first',
      details: { tenantId },
    });
  }
  if (state.tenantId !== tenantId) {
    throw commandMalformed(
      'tenantId',
      `names ${tenantId}, the stream belongs to ${state.tenantId}`,
    );
  }
  return state;
};

/** Decides commands of the tenant stream: the root and its admin devices, heartbeats, checkpoints. */
export function decideTenant(
  command: TenantCommand,
  state: TenantState,
  context: DomainContext,
): TenantEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  const { verifier } = context;
  const { tenantId, record } = command.data;
  checkId('tenantId', tenantId);
  checkRecordBytes(record);
  switch (command.type) {
    case 'CreateTenant': {
      if (state.status !== 'absent') {
        throw new ConflictError(DomainErrorCode.tenantExists, `tenant ${tenantId} exists already`, {
          hint: 'a tenant is created once; pick another tenant id',
          details: { tenantId },
        });
      }
      // The genesis record is signed by the root it introduces; devices pin that root out of band.
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.tenantCreated,
        emptyChain(),
        { tenantId },
      );
      return [
        {
          type: 'TenantCreated',
          data: {
            tenantId,
            rootFingerprint: verified.signerFingerprint,
            createdAt: fields.createdAt,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'CertifyAdminDevice': {
      const { deviceId } = command.data;
      checkId('deviceId', deviceId);
      const tenant = requireTenant(state, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.adminDeviceCertificate,
        tenant.chain,
        {
          tenantId,
          deviceId,
        },
      );
      requireRootSigner(tenant.rootFingerprint, verified);
      const fingerprint = verifier.fingerprint(fields.signingKey);
      const taken = Object.values(tenant.adminDevices).some(
        (device) => device.deviceId === deviceId || device.fingerprint === fingerprint,
      );
      if (taken) {
        throw new ConflictError(
          DomainErrorCode.deviceExists,
          `admin device ${deviceId} or its key is certified already`,
          {
            hint: 'every admin device gets its own id and key, certified once',
            details: { deviceId },
          },
        );
      }
      return [
        {
          type: 'AdminDeviceCertified',
          data: {
            deviceId,
            userId: fields.userId,
            fingerprint,
            notBefore: fields.notBefore,
            notAfter: fields.notAfter,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RevokeAdminDevice': {
      const { deviceId } = command.data;
      checkId('deviceId', deviceId);
      const tenant = requireTenant(state, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.adminDeviceRevocation,
        tenant.chain,
        {
          tenantId,
          deviceId,
        },
      );
      requireRootSigner(tenant.rootFingerprint, verified);
      const device = tenant.adminDevices[deviceId];
      if (device === undefined) {
        throw new NotFoundError(
          DomainErrorCode.deviceUnknown,
          `admin device ${deviceId} was never certified`,
          {
            hint: 'check the device id',
            details: { deviceId },
          },
        );
      }
      if (fields.fingerprint !== device.fingerprint) throw recordMismatch('fingerprint');
      if (device.revoked) {
        throw new ConflictError(
          DomainErrorCode.deviceAlreadyRevoked,
          `admin device ${deviceId} is revoked already`,
          {
            hint: 'nothing to do',
            details: { deviceId },
          },
        );
      }
      return [
        {
          type: 'AdminDeviceRevoked',
          data: {
            deviceId,
            fingerprint: device.fingerprint,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RecordHeartbeat': {
      const { signerDeviceId } = command.data;
      checkId('signerDeviceId', signerDeviceId);
      const tenant = requireTenant(state, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.heartbeat,
        tenant.chain,
        {
          tenantId,
          signerDeviceId,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      return [
        {
          type: 'Heartbeat',
          data: {
            signerDeviceId,
            time: fields.time,
            userHeads: fields.userHeads,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RecordCheckpoint': {
      const { signerDeviceId } = command.data;
      checkId('signerDeviceId', signerDeviceId);
      const tenant = requireTenant(state, tenantId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.checkpointCountersignature,
        tenant.chain,
        {
          tenantId,
          signerDeviceId,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      if (fields.treeSize <= tenant.checkpointTreeSize) {
        throw new ConflictError(
          DomainErrorCode.checkpointNotNewer,
          `checkpoint tree size ${fields.treeSize} is not larger than ${tenant.checkpointTreeSize}`,
          { hint: 'countersign a newer signed tree head', details: { treeSize: fields.treeSize } },
        );
      }
      return [
        {
          type: 'Checkpoint',
          data: {
            signerDeviceId,
            treeSize: fields.treeSize,
            rootHash: fields.rootHash,
            serviceSignature: fields.serviceSignature,
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

/** Folds one tenant event into the state. */
export function evolveTenant(state: TenantState, event: TenantEvent): TenantState {
  if (event.type === 'TenantCreated') {
    return {
      status: 'active',
      tenantId: event.data.tenantId,
      rootFingerprint: event.data.rootFingerprint,
      adminDevices: {},
      chain: advanceChain(emptyChain(), event.data.recordHash),
      times: [event.data.createdAt],
      lastHeartbeatTime: null,
      checkpointTreeSize: 0,
    };
  }
  if (state.status !== 'active') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  // The time at the new position: a heartbeat's own signed time, else the time before it.
  const time =
    event.type === 'Heartbeat' ? event.data.time : (state.times[state.times.length - 1] ?? 0);
  const times = [...state.times, time];
  switch (event.type) {
    case 'AdminDeviceCertified': {
      const { deviceId, userId, fingerprint, notBefore, notAfter } = event.data;
      return {
        ...state,
        chain,
        times,
        adminDevices: {
          ...state.adminDevices,
          [deviceId]: { deviceId, userId, fingerprint, notBefore, notAfter, revoked: false },
        },
      };
    }
    case 'AdminDeviceRevoked': {
      const device = state.adminDevices[event.data.deviceId];
      if (device === undefined) return { ...state, chain, times };
      return {
        ...state,
        chain,
        times,
        adminDevices: { ...state.adminDevices, [device.deviceId]: { ...device, revoked: true } },
      };
    }
    case 'Heartbeat':
      return { ...state, chain, times, lastHeartbeatTime: event.data.time };
    case 'Checkpoint':
      return { ...state, chain, times, checkpointTreeSize: event.data.treeSize };
    default:
      return assertNever(event);
  }
}

/** The tenant stream's decider. */
export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState, DomainContext> = {
  decide: decideTenant,
  evolve: evolveTenant,
  initialState: () => ({ status: 'absent' }),
};
