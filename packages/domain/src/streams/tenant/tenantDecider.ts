import { type Decider, eventMetadata, type EventMetadata, RecordPurpose } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import { requireAdminSigner, requireRootSigner } from '../authorize.js';
import { recordTail, requireOwnStream } from '../carried.js';
import type { ActiveTenant } from '../contextState.js';
import { assertNever, checkId, checkMetadata, checkRecordBytes } from '../../validate.js';
import type {
  CertifyAdminDevice,
  CreateTenant,
  RecordCheckpoint,
  RecordHeartbeat,
  RevokeAdminDevice,
  TenantCommand,
  TenantEvent,
  TenantState,
} from './tenantStream.js';

const requireTenant = (state: TenantState, tenantId: string): ActiveTenant => {
  if (state.status !== 'active') throw domainErrors.tenantUnknown(tenantId);
  requireOwnStream('tenantId', [tenantId], [state.tenantId]);
  return state;
};

/** The genesis record is signed by the root it introduces; devices pin that root out of band. */
function createTenant(
  { data: { tenantId, record } }: CreateTenant,
  state: TenantState,
  { verifier }: DomainContext,
  metadata: EventMetadata,
): TenantEvent[] {
  if (state.status !== 'absent') throw domainErrors.tenantExists(tenantId);
  const { verified, fields } = checkRecord(
    verifier,
    record,
    RecordPurpose.tenantCreated,
    emptyChain(),
    { tenantId },
  );
  const data = {
    tenantId,
    rootFingerprint: verified.signerFingerprint,
    createdAt: fields.createdAt,
  };
  return [{ type: 'TenantCreated', data: recordTail(data, record, verified), metadata }];
}

/** The root certifies an admin device: a new id with a key no admin device has. */
function certifyAdminDevice(
  { data: { tenantId, deviceId, record } }: CertifyAdminDevice,
  state: TenantState,
  { verifier }: DomainContext,
  metadata: EventMetadata,
): TenantEvent[] {
  checkId('deviceId', deviceId);
  const tenant = requireTenant(state, tenantId);
  const { verified, fields } = checkRecord(
    verifier,
    record,
    RecordPurpose.adminDeviceCertificate,
    tenant.chain,
    { tenantId, deviceId },
  );
  requireRootSigner(tenant.rootFingerprint, verified);
  const fingerprint = verifier.fingerprint(fields.signingKey);
  const taken = Object.values(tenant.adminDevices).some(
    (device) => device.deviceId === deviceId || device.fingerprint === fingerprint,
  );
  if (taken) throw domainErrors.adminDeviceTaken(deviceId);
  const { userId, notBefore, notAfter } = fields;
  const data = { deviceId, userId, fingerprint, notBefore, notAfter };
  return [{ type: 'AdminDeviceCertified', data: recordTail(data, record, verified), metadata }];
}

/** The root revokes a certified admin device, naming its key. */
function revokeAdminDevice(
  { data: { tenantId, deviceId, record } }: RevokeAdminDevice,
  state: TenantState,
  { verifier }: DomainContext,
  metadata: EventMetadata,
): TenantEvent[] {
  checkId('deviceId', deviceId);
  const tenant = requireTenant(state, tenantId);
  const { verified, fields } = checkRecord(
    verifier,
    record,
    RecordPurpose.adminDeviceRevocation,
    tenant.chain,
    { tenantId, deviceId },
  );
  requireRootSigner(tenant.rootFingerprint, verified);
  const device = tenant.adminDevices[deviceId];
  if (device === undefined) throw domainErrors.deviceUnknown(deviceId);
  if (fields.fingerprint !== device.fingerprint) throw domainErrors.recordMismatch('fingerprint');
  if (device.revoked) throw domainErrors.deviceAlreadyRevoked(deviceId);
  const data = { deviceId, fingerprint: device.fingerprint };
  return [{ type: 'AdminDeviceRevoked', data: recordTail(data, record, verified), metadata }];
}

/** An admin device's heartbeat: its signed time and every member's user-chain head. */
function recordHeartbeat(
  { data: { tenantId, signerDeviceId, record } }: RecordHeartbeat,
  state: TenantState,
  { verifier }: DomainContext,
  metadata: EventMetadata,
): TenantEvent[] {
  checkId('signerDeviceId', signerDeviceId);
  const tenant = requireTenant(state, tenantId);
  const { verified, fields } = checkRecord(
    verifier,
    record,
    RecordPurpose.heartbeat,
    tenant.chain,
    { tenantId, signerDeviceId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  // As devices judge it (crypto TrustView): a heartbeat dated outside its signer's validity
  // gives no time and no freshness, so the honest server does not append it.
  const signer = tenant.adminDevices[signerDeviceId] as { notBefore: number; notAfter: number };
  if (fields.time < signer.notBefore || fields.time > signer.notAfter) {
    throw domainErrors.certificateNotValid(signerDeviceId, tenant.chain.length, fields.time);
  }
  const committeeHeads = Object.fromEntries(
    Object.entries(fields.committeeHeads).map(([id, { length, hash }]) => [id, { length, hash }]),
  );
  const data = {
    signerDeviceId,
    time: fields.time,
    userHeads: fields.userHeads,
    committeeHeads,
  };
  return [{ type: 'Heartbeat', data: recordTail(data, record, verified), metadata }];
}

/** An admin device countersigns a signed tree head larger than the last one. */
function recordCheckpoint(
  { data: { tenantId, signerDeviceId, record } }: RecordCheckpoint,
  state: TenantState,
  { verifier }: DomainContext,
  metadata: EventMetadata,
): TenantEvent[] {
  checkId('signerDeviceId', signerDeviceId);
  const tenant = requireTenant(state, tenantId);
  const { verified, fields } = checkRecord(
    verifier,
    record,
    RecordPurpose.checkpointCountersignature,
    tenant.chain,
    { tenantId, signerDeviceId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  if (fields.treeSize <= tenant.checkpointTreeSize) {
    throw domainErrors.checkpointNotNewer(fields.treeSize, tenant.checkpointTreeSize);
  }
  const { treeSize, rootHash, serviceSignature } = fields;
  const data = { signerDeviceId, treeSize, rootHash, serviceSignature };
  return [{ type: 'Checkpoint', data: recordTail(data, record, verified), metadata }];
}

/** Decides commands of the tenant stream: the root and its admin devices, heartbeats, checkpoints. */
export function decideTenant(
  command: TenantCommand,
  state: TenantState,
  context: DomainContext,
): TenantEvent[] {
  checkMetadata(command.metadata);
  checkId('tenantId', command.data.tenantId);
  checkRecordBytes(command.data.record);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'CreateTenant':
      return createTenant(command, state, context, metadata);
    case 'CertifyAdminDevice':
      return certifyAdminDevice(command, state, context, metadata);
    case 'RevokeAdminDevice':
      return revokeAdminDevice(command, state, context, metadata);
    case 'RecordHeartbeat':
      return recordHeartbeat(command, state, context, metadata);
    case 'RecordCheckpoint':
      return recordCheckpoint(command, state, context, metadata);
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
