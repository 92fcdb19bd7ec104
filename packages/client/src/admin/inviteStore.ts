import { readFile } from 'node:fs/promises';
import { base64urlDecode, base64urlEncode, IntegrityError } from '@ratsfach/kernel';
import { randomBytes, sodium, type SigningKeyPair } from '@ratsfach/crypto';
import { CliErrorCode } from '../cli/cliErrorCode.js';
import { profilePath, writeFileAtomic } from '../cli/profile.js';

/** An enrolment code this admin device issued and has not yet seen used. */
export interface StoredInvite {
  readonly codeId: string;
  readonly userId: string;
  /** The code's secret: the MAC key of the device's enrolment is derived from it. */
  readonly secret: Uint8Array;
  readonly createdAt: string;
  readonly expiresAt: string;
}

interface StoredInviteJson {
  readonly codeId: string;
  readonly userId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly nonce: string;
  readonly sealedSecret: string;
}

const format = 'ratsfach-admin-invites';
const version = 1;
const fileName = 'admin-invites.json';
const utf8 = new TextEncoder();

/**
 * The secrets of open invitations stay on the admin device (the server sees only code ids), so
 * `approve` can check each enrolment's MAC. At rest they are sealed (XChaCha20-Poly1305) under a
 * key derived from the device's signing seed in its own BLAKE2b context: reading the profile
 * directory without the device passphrase yields no code that could enrol a device.
 */
const storeKey = (signing: SigningKeyPair): Uint8Array =>
  sodium().crypto_generichash(
    32,
    utf8.encode('ratsfach/v1/admin-invite-store'),
    signing.privateKey.subarray(0, 32),
  );

const associatedData = (invite: Omit<StoredInvite, 'secret'>): Uint8Array =>
  utf8.encode(
    JSON.stringify([format, invite.codeId, invite.userId, invite.createdAt, invite.expiresAt]),
  );

const damaged = (dir: string, cause?: unknown): IntegrityError =>
  new IntegrityError(CliErrorCode.profileDamaged, `the open invitations in ${dir} do not open`, {
    hint: 'The file was changed or belongs to another device; issue the invitations again (`ratsfach admin invite`).',
    details: { dir },
    ...(cause === undefined ? {} : { cause }),
  });

async function readJson(dir: string): Promise<StoredInviteJson[]> {
  let text: string;
  try {
    text = await readFile(profilePath(dir, fileName), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw damaged(dir, cause);
  }
  try {
    const json = JSON.parse(text) as { format?: unknown; version?: unknown; invites?: unknown };
    if (json.format !== format || json.version !== version || !Array.isArray(json.invites)) {
      throw damaged(dir);
    }
    return json.invites as StoredInviteJson[];
  } catch (cause) {
    if (cause instanceof IntegrityError) throw cause;
    throw damaged(dir, cause);
  }
}

const writeJson = (dir: string, invites: readonly StoredInviteJson[]): Promise<void> =>
  writeFileAtomic(
    profilePath(dir, fileName),
    `${JSON.stringify({ format, version, invites }, null, 2)}\n`,
  );

/** Opens every stored invitation; one that fails its seal makes the whole store refused. */
export async function loadInvites(dir: string, signing: SigningKeyPair): Promise<StoredInvite[]> {
  const key = storeKey(signing);
  return (await readJson(dir)).map((entry) => {
    try {
      const { nonce, sealedSecret, ...meta } = entry;
      const secret = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        base64urlDecode(sealedSecret),
        associatedData(meta),
        base64urlDecode(nonce),
        key,
      );
      return { ...meta, secret };
    } catch (cause) {
      throw damaged(dir, cause);
    }
  });
}

/** Adds an invitation (sealed) to the store. */
export async function saveInvite(
  dir: string,
  signing: SigningKeyPair,
  invite: StoredInvite,
): Promise<void> {
  const existing = await readJson(dir);
  const { secret, ...meta } = invite;
  const nonce = randomBytes(24);
  const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
    secret,
    associatedData(meta),
    null,
    nonce,
    storeKey(signing),
  );
  await writeJson(dir, [
    ...existing.filter((entry) => entry.codeId !== invite.codeId),
    { ...meta, nonce: base64urlEncode(nonce), sealedSecret: base64urlEncode(sealed) },
  ]);
}

/** Forgets invitations (used, or expired): their secrets are deleted from the device. */
export async function forgetInvites(dir: string, codeIds: readonly string[]): Promise<void> {
  const drop = new Set(codeIds);
  const existing = await readJson(dir);
  const kept = existing.filter((entry) => !drop.has(entry.codeId));
  if (kept.length !== existing.length) await writeJson(dir, kept);
}
