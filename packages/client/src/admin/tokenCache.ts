import { readFile } from 'node:fs/promises';
import { base64urlDecode, base64urlEncode } from '@ratsfach/kernel';
import { randomBytes, sodium, type SigningKeyPair } from '@ratsfach/crypto';
import { profilePath, writeFileAtomic } from '../cli/profile.js';

const fileName = 'admin-session.json';
const utf8 = new TextEncoder();

/**
 * The admin device's bearer token, kept between commands so a script of twenty commands does
 * not log in twenty times (the service limits logins per device). Sealed like the open
 * invitations, under a key derived from the signing seed in its own context, so the file alone
 * gives nothing; it lives at most as long as the token (minutes).
 */
const cacheKey = (signing: SigningKeyPair): Uint8Array =>
  sodium().crypto_generichash(
    32,
    utf8.encode('ratsfach/v1/admin-token-cache'),
    signing.privateKey.subarray(0, 32),
  );

/** A cached token still good at `now` (with a margin), or null. */
export async function loadToken(
  dir: string,
  signing: SigningKeyPair,
  audience: string,
  now: Date,
): Promise<string | null> {
  try {
    const json = JSON.parse(await readFile(profilePath(dir, fileName), 'utf8')) as {
      expiresAt: string;
      nonce: string;
      sealed: string;
    };
    if (Date.parse(json.expiresAt) - 30_000 <= now.getTime()) return null;
    const token = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      base64urlDecode(json.sealed),
      utf8.encode(`${audience}\n${json.expiresAt}`),
      base64urlDecode(json.nonce),
      cacheKey(signing),
    );
    return new TextDecoder().decode(token);
  } catch {
    // No cache, another device's, or changed: log in afresh.
    return null;
  }
}

/** Keeps the token until `expiresAt` (ISO 8601) for this server and device (`audience`). */
export async function saveToken(
  dir: string,
  signing: SigningKeyPair,
  audience: string,
  token: string,
  expiresAt: string,
): Promise<void> {
  const nonce = randomBytes(24);
  const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
    utf8.encode(token),
    utf8.encode(`${audience}\n${expiresAt}`),
    null,
    nonce,
    cacheKey(signing),
  );
  await writeFileAtomic(
    profilePath(dir, fileName),
    `${JSON.stringify({ expiresAt, nonce: base64urlEncode(nonce), sealed: base64urlEncode(sealed) })}\n`,
  );
}
