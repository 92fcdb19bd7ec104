import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import { hash512 } from '../hash.js';
import { randomBytes, sodium } from '../sodium.js';
import { currentSuite, requireSuite } from '../suite.js';
import { encodeBinding, type ContentBinding } from './binding.js';
import { MetadataError } from './contentErrors.js';
import { BindingLabel, ObjectKind } from './contentFormat.js';
import { deriveMetadataKey } from './contentKey.js';

/** What a document version says about itself besides its content: all of it secret. */
export interface DocumentMetadata {
  /** File name, 1 to 1024 UTF-8 bytes, without `/` or NUL. */
  readonly name: string;
  /** Folder names from the committee's root down, at most 32, each 1 to 255 UTF-8 bytes. */
  readonly folderPath: readonly string[];
  /** MIME type, 1 to 255 printable ASCII characters. */
  readonly mimeType: string;
  /** Milliseconds since 1970-01-01T00:00:00Z. */
  readonly createdAt: number;
  readonly modifiedAt: number;
}

const nonceLength = 24;
const macLength = 16;
/** Plaintext is padded to a multiple of this, so the server learns lengths only roughly. */
const padBlock = 64;
const maxName = 1024;
const maxSegment = 255;
const maxSegments = 32;
const mimePattern = /^[\x20-\x7e]{1,255}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const bad = (why: string): CryptoValidationError =>
  new CryptoValidationError(CryptoErrorCode.invalidArgument, `document metadata: ${why}`, {
    hint: 'names and folders are 1-1024 / 1-255 UTF-8 bytes without / or NUL; times are non-negative integers (ms)',
  });

const checkText = (what: string, value: string, max: number): Uint8Array => {
  if (typeof value !== 'string' || /[/\0]/.test(value)) throw bad(`${what} is not a valid name`);
  const bytes = encoder.encode(value);
  if (bytes.length < 1 || bytes.length > max) throw bad(`${what} has ${bytes.length} bytes`);
  return bytes;
};

const checkTime = (what: string, value: number): number => {
  if (!Number.isSafeInteger(value) || value < 0) throw bad(`${what} is not a time`);
  return value;
};

/**
 * The canonical plaintext encoding (FORMAT-content.md): u16 name length, name; u8 folder count,
 * each folder as u16 length and bytes; u8 MIME length, MIME; u64 createdAt; u64 modifiedAt; all
 * big-endian. Exported for vectors; encryptMetadata is what callers use.
 */
export const encodeMetadata = (metadata: DocumentMetadata): Uint8Array => {
  const name = checkText('name', metadata.name, maxName);
  if (!Array.isArray(metadata.folderPath) || metadata.folderPath.length > maxSegments) {
    throw bad('folderPath must be an array of at most 32 names');
  }
  const folders = metadata.folderPath.map((segment, i) =>
    checkText(`folder ${i}`, segment, maxSegment),
  );
  if (typeof metadata.mimeType !== 'string' || !mimePattern.test(metadata.mimeType)) {
    throw bad('mimeType must be 1-255 printable ASCII characters');
  }
  const mime = encoder.encode(metadata.mimeType);
  const created = checkTime('createdAt', metadata.createdAt);
  const modified = checkTime('modifiedAt', metadata.modifiedAt);
  const length =
    2 + name.length + 1 + folders.reduce((n, f) => n + 2 + f.length, 0) + 1 + mime.length + 16;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint16(at, name.length);
  out.set(name, at + 2);
  at += 2 + name.length;
  out[at++] = folders.length;
  for (const folder of folders) {
    view.setUint16(at, folder.length);
    out.set(folder, at + 2);
    at += 2 + folder.length;
  }
  out[at++] = mime.length;
  out.set(mime, at);
  at += mime.length;
  view.setBigUint64(at, BigInt(created));
  view.setBigUint64(at + 8, BigInt(modified));
  return out;
};

const malformed = (why: string): MetadataError =>
  new MetadataError(CryptoErrorCode.nonCanonical, `decrypted metadata is not canonical: ${why}`);

/** Decodes the canonical encoding; refuses anything else (MetadataError `nonCanonical`). */
export const decodeMetadata = (bytes: Uint8Array): DocumentMetadata => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw malformed('ends early');
  };
  const text = (lengthBytes: 1 | 2): string => {
    need(lengthBytes);
    const length = lengthBytes === 2 ? view.getUint16(at) : (bytes[at] as number);
    at += lengthBytes;
    need(length);
    try {
      return decoder.decode(bytes.subarray(at, (at += length)));
    } catch {
      throw malformed('text is not UTF-8');
    }
  };
  const name = text(2);
  need(1);
  const count = bytes[at++] as number;
  const folderPath: string[] = [];
  for (let i = 0; i < count; i++) folderPath.push(text(2));
  const mimeType = text(1);
  need(16);
  const createdAt = Number(view.getBigUint64(at));
  const modifiedAt = Number(view.getBigUint64(at + 8));
  at += 16;
  if (at !== bytes.length) throw malformed('bytes after the last field');
  const metadata: DocumentMetadata = { name, folderPath, mimeType, createdAt, modifiedAt };
  // Re-encoding checks every limit and that the values came in their one encoding.
  let again: Uint8Array;
  try {
    again = encodeMetadata(metadata);
  } catch (cause) {
    throw new MetadataError(CryptoErrorCode.nonCanonical, 'decrypted metadata breaks a limit', {
      cause,
    });
  }
  if (!sodium().memcmp(again, bytes)) throw malformed('values not in their canonical form');
  return metadata;
};

/**
 * Encrypts a version's metadata: XChaCha20-Poly1305 under a key derived from the content key
 * (its own KDF context), fresh random nonce, tenant / document / version / epoch as associated
 * data, plaintext padded to a multiple of 64 bytes. Output: suite, kind, nonce, ciphertext.
 */
export const encryptMetadata = (params: {
  readonly contentKey: Uint8Array;
  readonly binding: ContentBinding;
  readonly metadata: DocumentMetadata;
}): Uint8Array => {
  const s = sodium();
  const plaintext = s.pad(encodeMetadata(params.metadata), padBlock);
  const ad = encodeBinding(BindingLabel.metadata, currentSuite, params.binding, undefined);
  const key = deriveMetadataKey(params.contentKey);
  const nonce = randomBytes(nonceLength);
  const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
  s.memzero(key);
  const out = new Uint8Array(2 + nonceLength + sealed.length);
  out[0] = currentSuite;
  out[1] = ObjectKind.metadata;
  out.set(nonce, 2);
  out.set(sealed, 2 + nonceLength);
  return out;
};

/**
 * Decrypts metadata written by encryptMetadata. Throws UnknownSuiteError, or MetadataError
 * `malformed` (not a metadata object), `decryptionFailed` (changed bytes, another version's or
 * document's metadata, wrong key) or `nonCanonical` (an encoding encryptMetadata never makes).
 */
export const decryptMetadata = (
  object: Uint8Array,
  params: { readonly contentKey: Uint8Array; readonly binding: ContentBinding },
): DocumentMetadata => {
  const s = sodium();
  if (object.length === 0)
    throw new MetadataError(CryptoErrorCode.malformed, 'metadata object is empty');
  const suite = requireSuite(object[0] as number, 'document metadata');
  if (object[1] !== ObjectKind.metadata || object.length < 2 + nonceLength + macLength + padBlock) {
    throw new MetadataError(CryptoErrorCode.malformed, 'bytes are not a metadata object', {
      details: { length: object.length, kind: object[1] },
    });
  }
  const ad = encodeBinding(BindingLabel.metadata, suite, params.binding, undefined);
  const key = deriveMetadataKey(params.contentKey);
  let padded: Uint8Array;
  try {
    padded = s.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      object.subarray(2 + nonceLength),
      ad,
      object.subarray(2, 2 + nonceLength),
      key,
    );
  } catch (cause) {
    throw new MetadataError(
      CryptoErrorCode.decryptionFailed,
      'metadata does not open under this version key and these ids',
      { cause },
    );
  } finally {
    s.memzero(key);
  }
  let plaintext: Uint8Array;
  try {
    plaintext = s.unpad(padded, padBlock);
  } catch (cause) {
    throw new MetadataError(CryptoErrorCode.nonCanonical, 'metadata padding is invalid', { cause });
  }
  if (padded.length !== plaintext.length + padBlock - (plaintext.length % padBlock)) {
    throw malformed('padding longer than needed');
  }
  return decodeMetadata(plaintext);
};

/** BLAKE2b-512 of an encrypted metadata object, for a record that names it by hash. */
export const metadataHash = (object: Uint8Array): Uint8Array => hash512(object);

/**
 * Decrypts metadata only if it is exactly the object a staff device signed: `presented` is what
 * the server or a cache handed over, `signed` the `encryptedMetadata` of the verified version or
 * move record (`DocumentState.metadata`), `binding` the version it belongs to. A reader holding
 * the content key can encrypt any name under the right binding, so decrypting is not enough;
 * other bytes than the signed ones are refused (MetadataError `hashMismatch`) before decryption.
 * Then as decryptMetadata.
 */
export const openSignedMetadata = (
  presented: Uint8Array,
  params: {
    readonly signed: Uint8Array;
    readonly contentKey: Uint8Array;
    readonly binding: ContentBinding;
  },
): DocumentMetadata => {
  if (presented.length !== params.signed.length || !sodium().memcmp(presented, params.signed)) {
    throw new MetadataError(
      CryptoErrorCode.hashMismatch,
      'the metadata presented is not the one the version or move record signed',
      {
        hint: 'Show the name from the signed record and report it: the metadata was swapped.',
        details: { presented: presented.length, signed: params.signed.length },
      },
    );
  }
  return decryptMetadata(params.signed, params);
};
