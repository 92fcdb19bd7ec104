import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  base64urlDecode,
  base64urlEncode,
  IntegrityError,
  ValidationError,
  NotFoundError,
  ConflictError,
} from '@ratsfach/kernel';
import {
  type Argon2idParameters,
  constantTimeEqual,
  CryptoErrorCode,
  type DeviceKeys,
  fingerprint,
  generateDeviceKeys,
  KeyStoreError,
  minimumArgon2id,
  openKeysWithPassphrase,
  sealKeysWithPassphrase,
  type SigningKeyPair,
} from '@ratsfach/crypto';
import { AdminErrorCode } from './adminErrorCode.js';

/** What a root key file says about itself without its passphrase. */
export interface RootKeyInfo {
  readonly tenantId: string;
  /** The root's Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** 64 hex digits: what every enrolment code pins and every device compares. */
  readonly fingerprint: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** An opened root: its signing key pair, for certifying and revoking admin devices only. */
export interface OpenedRoot extends RootKeyInfo {
  readonly signing: SigningKeyPair;
}

const format = 'ratsfach-root-key';
const version = 1;

interface RootKeyFileJson {
  readonly format: typeof format;
  readonly version: typeof version;
  readonly tenantId: string;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly createdAt: string;
  /** The key store's passphrase blob (Argon2id + XChaCha20-Poly1305), base64url. */
  readonly sealed: string;
}

const unreadable = (path: string, why: string, cause?: unknown): ValidationError =>
  new ValidationError(AdminErrorCode.rootFileUnreadable, `${path} is not a root key file: ${why}`, {
    hint: 'Give the path of the root key file that `ratsfach admin init` wrote (--root <file>).',
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });

/** Reads and checks the public part of a root key file; no passphrase is needed. */
export async function readRootKeyInfo(path: string): Promise<RootKeyInfo> {
  const { info } = await readRootFile(path);
  return info;
}

async function readRootFile(path: string): Promise<{ info: RootKeyInfo; sealed: Uint8Array }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(AdminErrorCode.rootFileUnreadable, `no root key file at ${path}`, {
        hint: 'Insert the medium that holds the root key file and give its path with --root <file>.',
        details: { path },
      });
    }
    throw unreadable(path, 'it cannot be read', cause);
  }
  let json: Partial<RootKeyFileJson>;
  try {
    json = JSON.parse(text) as Partial<RootKeyFileJson>;
  } catch (cause) {
    throw unreadable(path, 'it is not JSON', cause);
  }
  if (json.format !== format) throw unreadable(path, 'it has no root key format marker');
  if (json.version !== version) throw unreadable(path, `format version ${String(json.version)}`);
  if (
    typeof json.tenantId !== 'string' ||
    typeof json.publicKey !== 'string' ||
    typeof json.createdAt !== 'string' ||
    typeof json.sealed !== 'string'
  ) {
    throw unreadable(path, 'a field is missing');
  }
  let publicKey: Uint8Array;
  let sealed: Uint8Array;
  try {
    publicKey = base64urlDecode(json.publicKey);
    sealed = base64urlDecode(json.sealed);
  } catch (cause) {
    throw unreadable(path, 'a key is not base64url', cause);
  }
  if (publicKey.length !== 32) throw unreadable(path, 'the public key is not 32 bytes');
  const computed = fingerprint(publicKey);
  if (json.fingerprint !== computed) {
    throw new IntegrityError(
      AdminErrorCode.rootFileUnreadable,
      `${path}: the fingerprint written in the file is not that of its public key`,
      {
        hint: 'The file was changed. Use your backup copy of the root key file.',
        details: { path },
      },
    );
  }
  return {
    info: { tenantId: json.tenantId, publicKey, fingerprint: computed, createdAt: json.createdAt },
    sealed,
  };
}

/**
 * Creates a tenant's trust root and writes it to `path` as an offline key file sealed under
 * `passphrase` through the crypto package's key store (Argon2id). The file is created with mode
 * 0600 and never overwrites an existing one: losing a root by a typo would lock every admin out.
 * The key store seals a device's two key pairs; the root only ever signs, so its X-Wing pair is
 * generated to fill the store's layout and is never used.
 */
export async function createRootKeyFile(
  path: string,
  options: {
    readonly tenantId: string;
    readonly passphrase: string;
    readonly now: Date;
    readonly argon2id?: Argon2idParameters;
  },
): Promise<OpenedRoot> {
  const keys: DeviceKeys = generateDeviceKeys();
  const sealed = await sealKeysWithPassphrase(
    keys,
    options.passphrase,
    options.argon2id ?? minimumArgon2id,
  );
  const info: RootKeyInfo = {
    tenantId: options.tenantId,
    publicKey: keys.signing.publicKey,
    fingerprint: fingerprint(keys.signing.publicKey),
    createdAt: options.now.toISOString(),
  };
  const json: RootKeyFileJson = {
    format,
    version,
    tenantId: info.tenantId,
    publicKey: base64urlEncode(info.publicKey),
    fingerprint: info.fingerprint,
    createdAt: info.createdAt,
    sealed: base64urlEncode(sealed),
  };
  try {
    // `--root ~/rf/root.key` on a first run: make the folder (only the owner may enter one made
    // here) rather than fail with ENOENT after the passphrase was typed.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, `${JSON.stringify(json, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError(AdminErrorCode.rootFileExists, `${path} exists already`, {
        hint: 'A root key file is never overwritten; choose another path or move the old file away.',
        details: { path },
      });
    }
    throw cause;
  }
  return { ...info, signing: keys.signing };
}

/**
 * Opens a root key file with its passphrase. A wrong passphrase or a changed file fails with
 * `RATSFACH_ADMIN_ROOT_PASSPHRASE` (the key store cannot tell them apart, by design); a sealed
 * key that is not the one the file names is refused as changed.
 */
export async function openRootKeyFile(path: string, passphrase: string): Promise<OpenedRoot> {
  const { info, sealed } = await readRootFile(path);
  let keys: DeviceKeys;
  try {
    keys = await openKeysWithPassphrase(sealed, passphrase);
  } catch (cause) {
    if (cause instanceof KeyStoreError && cause.code === CryptoErrorCode.keyStoreTampered) {
      throw new ValidationError(
        AdminErrorCode.rootPassphrase,
        'the root passphrase is wrong, or the root key file was changed',
        {
          hint: 'Type the root passphrase again; if it is right, use your backup copy of the root key file.',
          details: { path },
          cause,
        },
      );
    }
    throw cause;
  }
  if (!constantTimeEqual(keys.signing.publicKey, info.publicKey)) {
    throw new IntegrityError(
      AdminErrorCode.rootFileUnreadable,
      `${path}: the sealed key is not the root the file names`,
      {
        hint: 'The file was changed. Use your backup copy of the root key file.',
        details: { path },
      },
    );
  }
  return { ...info, signing: keys.signing };
}

/**
 * A fingerprint as people compare it aloud: 16 groups of 4 hex digits. Every device shows the
 * pinned root the same way.
 */
export const formatFingerprint = (hex: string): string => (hex.match(/.{1,4}/g) ?? []).join(' ');
