import type { CommandJsonOf } from '@ratsfach/api-contract';
import { signRecord, unchained, type ChainLink, type SigningKeyPair } from '@ratsfach/crypto';
import type { ChainHead } from '@ratsfach/domain';
import { toCommandJson, type CommandOptions } from './toCommandJson.js';

/** The tenant's genesis, signed by its offline root. */
export interface TenantGenesis {
  readonly tenantId: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly root: SigningKeyPair;
}

/** `CreateTenant`: the tenant-created record at position 0 of the tenant chain. */
export function createTenantCommand(
  input: TenantGenesis,
  options?: CommandOptions,
): CommandJsonOf<'CreateTenant'> {
  const { tenantId, createdAt, root } = input;
  const record = signRecord('tenant-created', unchained, { tenantId, createdAt }, root);
  return toCommandJson('CreateTenant', { tenantId, record }, options);
}

/** An admin device's certificate, signed by the root. */
export interface AdminCertificateInput {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
  readonly kemKey: Uint8Array;
  /** Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Where it goes in the tenant chain (1 for the first admin device). */
  readonly link: ChainLink;
  readonly root: SigningKeyPair;
}

/** `CertifyAdminDevice`: the root certifies an admin device (also its renewal). */
export function certifyAdminDeviceCommand(
  input: AdminCertificateInput,
  options?: CommandOptions,
): CommandJsonOf<'CertifyAdminDevice'> {
  const { tenantId, deviceId, link, root, ...rest } = input;
  const record = signRecord(
    'admin-device-certificate',
    link,
    { tenantId, deviceId, ...rest },
    root,
  );
  return toCommandJson('CertifyAdminDevice', { tenantId, deviceId, record }, options);
}

export interface AdminRevocationInput {
  readonly tenantId: string;
  readonly deviceId: string;
  /** The revoked device's signing-key fingerprint (64 hex digits). */
  readonly fingerprint: string;
  readonly reason: string;
  readonly link: ChainLink;
  readonly root: SigningKeyPair;
}

/** `RevokeAdminDevice`: the root revokes an admin device. */
export function revokeAdminDeviceCommand(
  input: AdminRevocationInput,
  options?: CommandOptions,
): CommandJsonOf<'RevokeAdminDevice'> {
  const { tenantId, deviceId, fingerprint, reason, link, root } = input;
  const record = signRecord(
    'admin-device-revocation',
    link,
    { tenantId, deviceId, fingerprint, reason },
    root,
  );
  return toCommandJson('RevokeAdminDevice', { tenantId, deviceId, record }, options);
}

export interface HeartbeatInput {
  readonly tenantId: string;
  readonly signerDeviceId: string;
  /** Unix seconds. */
  readonly time: number;
  /** Every user chain's head hash, by user id. */
  readonly userHeads: Readonly<Record<string, Uint8Array>>;
  /** Every committee chain's head, by committee id. */
  readonly committeeHeads: Readonly<Record<string, ChainHead>>;
  readonly link: ChainLink;
  readonly signer: SigningKeyPair;
}

/** `RecordHeartbeat`: an admin device names the heads it sees (the staleness clock). */
export function heartbeatCommand(
  input: HeartbeatInput,
  options?: CommandOptions,
): CommandJsonOf<'RecordHeartbeat'> {
  const { tenantId, signerDeviceId, time, userHeads, committeeHeads, link, signer } = input;
  const record = signRecord(
    'heartbeat',
    link,
    { tenantId, signerDeviceId, time, userHeads, committeeHeads },
    signer,
  );
  return toCommandJson('RecordHeartbeat', { tenantId, signerDeviceId, record }, options);
}

export interface CountersignatureInput {
  readonly tenantId: string;
  readonly signerDeviceId: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** The service's signature over its checkpoint, as the service published it. */
  readonly serviceSignature: Uint8Array;
  readonly link: ChainLink;
  readonly signer: SigningKeyPair;
}

/** `RecordCheckpoint`: an admin device countersigns the service's checkpoint. */
export function countersignCheckpointCommand(
  input: CountersignatureInput,
  options?: CommandOptions,
): CommandJsonOf<'RecordCheckpoint'> {
  const { tenantId, signerDeviceId, link, signer, ...rest } = input;
  const record = signRecord(
    'checkpoint-countersignature',
    link,
    { tenantId, signerDeviceId, ...rest },
    signer,
  );
  return toCommandJson('RecordCheckpoint', { tenantId, signerDeviceId, record }, options);
}
