import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bootstrapTenant, type BootstrapReply } from '@ratsfach/api-contract';
import {
  adminCertificateSeconds,
  generateDeviceKeys,
  hash512,
  type Argon2idParameters,
} from '@ratsfach/crypto';
import { ValidationError, isValidId } from '@ratsfach/kernel';
import type { Dispatcher } from 'undici';
import { ApiClient, ApiProblemError } from '../http/apiClient.js';
import { certifyAdminDeviceCommand, createTenantCommand } from '../records/tenantRecords.js';
import { recordOf } from '../records/toCommandJson.js';
import { createProfile, ProfileKind } from '../cli/profile.js';
import { AdminErrorCode } from './adminErrorCode.js';
import { awaitProjection, projectionWaitMs, unixSeconds } from './adminSession.js';
import { createRootKeyFile } from './rootKeyFile.js';

/** What `ratsfach admin init` needs. */
export interface InitOptions {
  readonly serverUrl: string;
  readonly tenantId: string;
  /** Where the root key file goes (it must not exist). */
  readonly rootFile: string;
  readonly rootPassphrase: string;
  readonly profileDir: string;
  readonly devicePassphrase: string;
  /** The administrator's user id and this device's id in certificates. */
  readonly userId: string;
  readonly deviceId: string;
  readonly bootstrapToken?: string | undefined;
  readonly now: Date;
  readonly argon2id?: Argon2idParameters;
  readonly dispatcher?: Dispatcher;
  /** How long to wait for the service's projector after the bootstrap (default 60 s). */
  readonly loginWaitMs?: number;
}

/** What `init` made. */
export interface InitResult extends BootstrapReply {
  readonly rootFile: string;
  readonly profileDir: string;
}

/**
 * Creates the tenant's trust root (offline key file), this device's keys and admin profile,
 * and bootstraps the tenant with the root-signed genesis and this device's certificate. When
 * the service refuses, the root file and the profile just made are removed again, so nothing
 * is left half-made and the command can simply be run again.
 */
export async function initTenant(options: InitOptions): Promise<InitResult> {
  for (const [what, id] of [
    ['tenant', options.tenantId],
    ['user', options.userId],
    ['device', options.deviceId],
  ] as const) {
    if (!isValidId(id)) {
      throw new ValidationError(
        AdminErrorCode.unknown,
        `the ${what} id ${JSON.stringify(id)} is not valid`,
        {
          hint: 'Ids are 1 to 64 lowercase letters, digits and underscores, e.g. stadt_musterhausen.',
        },
      );
    }
  }
  const root = await createRootKeyFile(options.rootFile, {
    tenantId: options.tenantId,
    passphrase: options.rootPassphrase,
    now: options.now,
    ...(options.argon2id ? { argon2id: options.argon2id } : {}),
  });
  const keys = generateDeviceKeys();
  try {
    await createProfile(
      options.profileDir,
      {
        kind: ProfileKind.admin,
        serverUrl: options.serverUrl,
        tenantId: options.tenantId,
        userId: options.userId,
        deviceId: options.deviceId,
        rootFingerprint: root.fingerprint,
        createdAt: options.now.toISOString(),
      },
      keys,
      options.devicePassphrase,
      options.argon2id,
    );
  } catch (error) {
    await rm(options.rootFile, { force: true });
    throw error;
  }
  const createTenant = createTenantCommand(
    { tenantId: options.tenantId, createdAt: unixSeconds(options.now), root: root.signing },
    { now: options.now.getTime() },
  );
  const certifyAdminDevice = certifyAdminDeviceCommand(
    {
      tenantId: options.tenantId,
      userId: options.userId,
      deviceId: options.deviceId,
      signingKey: keys.signing.publicKey,
      kemKey: keys.kem.publicKey,
      notBefore: unixSeconds(options.now),
      notAfter: unixSeconds(options.now) + adminCertificateSeconds,
      link: { sequence: 1, previousHash: hash512(recordOf(createTenant)) },
      root: root.signing,
    },
    { now: options.now.getTime() },
  );
  const api = new ApiClient({
    baseUrl: options.serverUrl,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  let reply: BootstrapReply;
  try {
    reply = await api.call(bootstrapTenant, {
      params: { tenantId: options.tenantId },
      body: {
        createTenant,
        certifyAdminDevice,
        ...(options.bootstrapToken ? { bootstrapToken: options.bootstrapToken } : {}),
      },
    });
  } catch (error) {
    // A refusal means the tenant was not created with this root: undo the local files. On any
    // other failure the outcome is unknown and the root may already be in use: keep them.
    if (error instanceof ApiProblemError && error.status < 500) {
      await rm(options.rootFile, { force: true });
      await rm(join(options.profileDir, 'profile.json'), { force: true });
      await rm(join(options.profileDir, 'keys.bin'), { force: true });
    }
    throw error;
  }
  if (reply.rootFingerprint !== root.fingerprint) {
    throw new ValidationError(
      AdminErrorCode.rootMismatch,
      'the service reports another root fingerprint',
      {
        hint: 'Do not use this server; tell the operator.',
      },
    );
  }
  await awaitProjection(api, options.loginWaitMs ?? projectionWaitMs);
  return { ...reply, rootFile: options.rootFile, profileDir: options.profileDir };
}
