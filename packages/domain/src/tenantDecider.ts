import { ConflictError, NotFoundError } from './errors.js';
import { DomainErrorCode } from './domainErrorCode.js';
import type { Decider } from './decider.js';
import type { DomainContext } from './domainContext.js';
import { RecordPurpose } from './signedRecord.js';
import { checkRecord } from './checkRecord.js';
import { advanceChain, emptyChain } from './chain.js';
import { eventMetadata } from './message.js';
import { requireAdminSigner, requireRootSigner } from './authorize.js';
import {
  assertNever,
  checkBytes,
  checkHash,
  checkId,
  checkMetadata,
  checkRecordBytes,
  checkText,
  checkTime,
  commandMalformed,
} from './validate.js';
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
  switch (command.type) {
    case 'CreateTenant': {
      const { tenantId, rootFingerprint, record } = command.data;
      checkId('tenantId', tenantId);
      checkText('rootFingerprint', rootFingerprint, 256);
      checkRecordBytes(record);
      if (state.status !== 'absent') {
        throw new ConflictError(DomainErrorCode.tenantExists, `tenant ${tenantId} exists already`, {
          hint: 'a tenant is created once; pick another tenant id',
          details: { tenantId },
        });
      }
      const verified = checkRecord(verifier, record, RecordPurpose.tenantCreated, emptyChain(), {
        tenantId,
        rootFingerprint,
      });
      requireRootSigner(rootFingerprint, verified);
      return [
        {
          type: 'TenantCreated',
          data: {
            tenantId,
            rootFingerprint,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'CertifyAdminDevice': {
      const { tenantId, deviceId, fingerprint, validUntil, record } = command.data;
      checkId('deviceId', deviceId);
      checkText('fingerprint', fingerprint, 256);
      checkTime('validUntil', validUntil);
      checkRecordBytes(record);
      const tenant = requireTenant(state, tenantId);
      const verified = checkRecord(
        verifier,
        record,
        RecordPurpose.adminDeviceCertificate,
        tenant.chain,
        {
          tenantId,
          deviceId,
          fingerprint,
          validUntil,
        },
      );
      requireRootSigner(tenant.rootFingerprint, verified);
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
            fingerprint,
            validUntil,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RevokeAdminDevice': {
      const { tenantId, deviceId, record } = command.data;
      checkId('deviceId', deviceId);
      checkRecordBytes(record);
      const tenant = requireTenant(state, tenantId);
      const verified = checkRecord(
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
          data: { deviceId, record, recordHash: verified.hash, sequence: verified.sequence },
          metadata,
        },
      ];
    }
    case 'RecordHeartbeat': {
      const { tenantId, signerDeviceId, userHeads, record } = command.data;
      checkId('signerDeviceId', signerDeviceId);
      for (const [userId, head] of Object.entries(userHeads)) {
        checkId('userHeads', userId);
        checkHash(`userHeads.${userId}`, head);
      }
      checkRecordBytes(record);
      const tenant = requireTenant(state, tenantId);
      const verified = checkRecord(verifier, record, RecordPurpose.heartbeat, tenant.chain, {
        tenantId,
        userHeads,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      return [
        {
          type: 'Heartbeat',
          data: {
            signerDeviceId,
            userHeads,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'RecordCheckpoint': {
      const { tenantId, treeSize, rootHash, serviceSignature, signerDeviceId, record } =
        command.data;
      if (typeof treeSize !== 'bigint' || treeSize < 1n)
        throw commandMalformed('treeSize', 'expected a bigint of at least 1');
      checkHash('rootHash', rootHash);
      checkBytes('serviceSignature', serviceSignature, 1024);
      checkId('signerDeviceId', signerDeviceId);
      checkRecordBytes(record);
      const tenant = requireTenant(state, tenantId);
      const verified = checkRecord(
        verifier,
        record,
        RecordPurpose.checkpointCountersignature,
        tenant.chain,
        {
          tenantId,
          treeSize,
          rootHash,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      if (treeSize <= tenant.checkpointTreeSize) {
        throw new ConflictError(
          DomainErrorCode.checkpointNotNewer,
          `checkpoint tree size ${treeSize} is not larger than ${tenant.checkpointTreeSize}`,
          { hint: 'countersign a newer signed tree head', details: { treeSize: String(treeSize) } },
        );
      }
      return [
        {
          type: 'Checkpoint',
          data: {
            treeSize,
            rootHash,
            serviceSignature,
            signerDeviceId,
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
      lastHeartbeatAt: null,
      checkpointTreeSize: 0n,
    };
  }
  if (state.status !== 'active') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  switch (event.type) {
    case 'AdminDeviceCertified': {
      const { deviceId, fingerprint, validUntil } = event.data;
      return {
        ...state,
        chain,
        adminDevices: {
          ...state.adminDevices,
          [deviceId]: { deviceId, fingerprint, validUntil, revoked: false },
        },
      };
    }
    case 'AdminDeviceRevoked': {
      const device = state.adminDevices[event.data.deviceId];
      if (device === undefined) return { ...state, chain };
      return {
        ...state,
        chain,
        adminDevices: { ...state.adminDevices, [device.deviceId]: { ...device, revoked: true } },
      };
    }
    case 'Heartbeat':
      return { ...state, chain, lastHeartbeatAt: event.metadata.occurredAt };
    case 'Checkpoint':
      return { ...state, chain, checkpointTreeSize: event.data.treeSize };
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
