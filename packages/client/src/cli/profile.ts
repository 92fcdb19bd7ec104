import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConflictError, IntegrityError, NotFoundError, ValidationError } from '@ratsfach/kernel';
import {
  CryptoErrorCode,
  type DeviceKeys,
  KeyStoreError,
  openKeysWithPassphrase,
  sealKeysWithPassphrase,
  type Argon2idParameters,
  minimumArgon2id,
} from '@ratsfach/crypto';
import { syncFolder } from '../node/nodeFileSystem.js';
import { CliErrorCode } from './cliErrorCode.js';

/** What kind of device a profile is: an administration's or a council member's. */
export const ProfileKind = { admin: 'admin', member: 'member' } as const;
export type ProfileKind = (typeof ProfileKind)[keyof typeof ProfileKind];

/** A device's profile as stored in its directory (no secrets: the keys are in `keys.bin`). */
export interface Profile {
  readonly kind: ProfileKind;
  /** Where the service listens, e.g. `https://ratsfach.example.org`. */
  readonly serverUrl: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  /** The tenant root's fingerprint (64 hex digits), pinned out of band, never from the server. */
  readonly rootFingerprint: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

const format = 'ratsfach-profile';
const version = 1;
const profileFile = 'profile.json';
const keysFile = 'keys.bin';

/**
 * The default profile directory: `$XDG_DATA_HOME/ratsfach/default`, else
 * `~/.local/share/ratsfach/default` (macOS: `~/Library/Application Support`, Windows:
 * `%APPDATA%`). The environment is passed in by the entry point.
 */
export function defaultProfileDir(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
  platform: NodeJS.Platform,
): string {
  const data =
    env.XDG_DATA_HOME ||
    (platform === 'darwin'
      ? join(home, 'Library', 'Application Support')
      : platform === 'win32'
        ? (env.APPDATA ?? join(home, 'AppData', 'Roaming'))
        : join(home, '.local', 'share'));
  return join(data, 'ratsfach', 'default');
}

/** The sealed key file of the profile in `dir` (deleted when the device is proven revoked). */
export const profileKeysPath = (dir: string): string => join(dir, keysFile);

/** The path of a file of this profile (local state of the areas: invites, sync state). */
export const profilePath = (dir: string, name: string): string => join(dir, name);

const damaged = (dir: string, why: string, cause?: unknown): IntegrityError =>
  new IntegrityError(CliErrorCode.profileDamaged, `the profile in ${dir} is damaged: ${why}`, {
    hint: 'Restore the profile directory from a backup, or enrol this device again.',
    details: { dir },
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Writes a profile file (mode 0600) so that a crash or a power cut leaves the old or the new
 * content, never a mix or an empty file: a fresh temporary name (two writes in one process
 * never share one), its data synced before the rename, the folder synced after it. The sync
 * engine's `NodeFileSystem.writeAtomic` does the same inside a synced tree (bound to its root,
 * streaming and hashing); both end with its `syncFolder`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/**
 * Creates a profile: the directory (mode 0700), the device's keys sealed under `passphrase`
 * (Argon2id, the crypto package's key store) and the profile itself. Refuses a directory that
 * holds a profile already: a device's keys are never overwritten.
 */
export async function createProfile(
  dir: string,
  profile: Profile,
  keys: DeviceKeys,
  passphrase: string,
  argon2id: Argon2idParameters = minimumArgon2id,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const sealed = await sealKeysWithPassphrase(keys, passphrase, argon2id);
  try {
    await writeFile(join(dir, keysFile), sealed, { flag: 'wx', mode: 0o600 });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError(CliErrorCode.profileExists, `${dir} holds a profile already`, {
        hint: 'Choose another directory with --profile <dir>; a device profile is never overwritten.',
        details: { dir },
      });
    }
    throw cause;
  }
  const json = { format, version, ...profile };
  await writeFileAtomic(join(dir, profileFile), `${JSON.stringify(json, null, 2)}\n`);
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Reads the profile in `dir` (no passphrase needed). */
export async function readProfile(dir: string, kind?: ProfileKind): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(join(dir, profileFile), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(CliErrorCode.profileMissing, `no profile in ${dir}`, {
        hint:
          kind === ProfileKind.admin
            ? 'Run `ratsfach admin init` first, or pass the admin profile with --profile <dir>.'
            : 'Enrol this device first (`ratsfach enrol`), or pass the profile with --profile <dir>.',
        details: { dir },
      });
    }
    throw damaged(dir, 'profile.json cannot be read', cause);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw damaged(dir, 'profile.json is not JSON', cause);
  }
  if (json.format !== format || json.version !== version) {
    throw damaged(dir, 'profile.json is not a profile of this version');
  }
  const fields = ['serverUrl', 'tenantId', 'userId', 'deviceId', 'rootFingerprint', 'createdAt'];
  for (const field of fields) if (!isText(json[field])) throw damaged(dir, `${field} is missing`);
  if (json.kind !== ProfileKind.admin && json.kind !== ProfileKind.member) {
    throw damaged(dir, 'its kind is unknown');
  }
  const profile = json as unknown as Profile & { format: unknown; version: unknown };
  if (kind !== undefined && profile.kind !== kind) {
    throw new ValidationError(
      CliErrorCode.profileKind,
      `the profile in ${dir} is a ${profile.kind} device's, not an ${kind} device's`,
      {
        hint:
          kind === ProfileKind.admin
            ? 'Pass the admin device profile with --profile <dir>.'
            : 'Pass a council member device profile with --profile <dir>.',
        details: { dir },
      },
    );
  }
  return {
    kind: profile.kind,
    serverUrl: profile.serverUrl,
    tenantId: profile.tenantId,
    userId: profile.userId,
    deviceId: profile.deviceId,
    rootFingerprint: profile.rootFingerprint,
    createdAt: profile.createdAt,
  };
}

/**
 * Opens the device's private keys with its passphrase. A wrong passphrase or a changed key file
 * is `RATSFACH_CRYPTO_KEY_STORE_TAMPERED` with a hint that names the passphrase first.
 */
export async function openProfileKeys(dir: string, passphrase: string): Promise<DeviceKeys> {
  let sealed: Uint8Array;
  try {
    sealed = await readFile(join(dir, keysFile));
  } catch (cause) {
    throw damaged(dir, 'keys.bin cannot be read', cause);
  }
  try {
    return await openKeysWithPassphrase(sealed, passphrase);
  } catch (cause) {
    if (cause instanceof KeyStoreError && cause.code === CryptoErrorCode.keyStoreTampered) {
      throw new KeyStoreError(
        CryptoErrorCode.keyStoreTampered,
        'the device passphrase is wrong, or the device keys were changed',
        {
          hint: 'Type the passphrase again; if it is right, restore the profile from a backup or enrol the device again.',
          details: { dir },
          cause,
        },
      );
    }
    throw cause;
  }
}
