import {
  concatBytes,
  hashLength,
  keyLength,
  type Purpose,
  type RecordBodies,
  type RecordFieldValue,
  purposeLabel,
  purposeOfLabel,
  supersededPurposeOfLabel,
  recordSchemas,
} from '@ratsfach/kernel';
import { ByteReader } from '../codec/byteReader.js';
import { ByteWriter } from '../codec/byteWriter.js';
import { decodeFields, encodeFields } from '../codec/fieldCodec.js';
import {
  CryptoErrorCode,
  CryptoValidationError,
  EncodingError,
  SignatureError,
} from '../errors.js';
import { hash512, constantTimeEqual } from '../hash.js';
import type { SigningKeyPair } from '../keys/deviceKeys.js';
import { fingerprint } from '../keys/fingerprint.js';
import { sodium } from '../sodium.js';
import { currentSuite, requireSuite, type Suite } from '../suite.js';

/** Where a record sits in its chain: its sequence and the hash of the record before it. */
export interface ChainLink {
  /** Position in the chain, from 0 (the chain's length before this record). */
  readonly sequence: number;
  /** Hash of the previous record; 64 zero bytes for sequence 0 and for unchained objects. */
  readonly previousHash: Uint8Array;
}

/** A record whose signature verified over its exact bytes and whose bytes are canonical. */
export interface OpenedRecord<P extends Purpose = Purpose> extends ChainLink {
  readonly purpose: P;
  /** `ratsfach/v1/<purpose>`, with `/v<n>` from a format version 2 (`purposeLabel`). */
  readonly label: string;
  readonly suite: Suite;
  readonly signerKey: Uint8Array;
  readonly signerFingerprint: string;
  /** BLAKE2b-512 of the exact stored bytes: what the chain's next record names. */
  readonly hash: Uint8Array;
  readonly body: RecordBodies[P];
  /** The exact stored bytes. */
  readonly bytes: Uint8Array;
}

/** The position of an unchained object (enrolment request, login proof, service checkpoint). */
export const unchained: ChainLink = { sequence: 0, previousHash: new Uint8Array(hashLength) };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Offsets of the envelope (FORMAT.md, "Envelope"): suite, label length, label, signer key. */
const labelLengthOffset = 1;
/** suite, label length, signer key, sequence, previous hash and signature, with an empty label. */
const minimumLength =
  labelLengthOffset + 1 + keyLength.signingPublicKey + 8 + hashLength + keyLength.signature;
/** Where the signer key starts, after the label of `labelLength` bytes. */
const signerKeyOffset = (labelLength: number): number => labelLengthOffset + 1 + labelLength;

/** Encodes and signs a record of `purpose` at `link` in its chain. */
export function signRecord<P extends Purpose>(
  purpose: P,
  link: ChainLink,
  body: RecordBodies[P],
  signer: SigningKeyPair,
): Uint8Array {
  if (link.previousHash.length !== hashLength) {
    throw new CryptoValidationError(
      CryptoErrorCode.invalidArgument,
      `previousHash must be ${hashLength} bytes`,
    );
  }
  const w = new ByteWriter();
  w.u8(currentSuite);
  const label = utf8.encode(purposeLabel(purpose));
  w.u8(label.length);
  w.bytes(label);
  w.bytes(signer.publicKey);
  w.u64(link.sequence);
  w.bytes(link.previousHash);
  encodeFields(
    w,
    recordSchemas[purpose],
    body as unknown as Record<string, RecordFieldValue>,
    purpose,
  );
  const signed = w.finish();
  const signature = sodium().crypto_sign_detached(signed, signer.privateKey);
  return concatBytes(signed, signature);
}

/**
 * Checks the signature over the exact stored bytes, reading nothing but the suite byte, the
 * label's length and the signer key after the label. Returns the signer key. Throws
 * UnknownSuiteError, EncodingError (too short) or SignatureError.
 */
export function verifyRecordSignature(bytes: Uint8Array): {
  readonly suite: Suite;
  readonly signerKey: Uint8Array;
} {
  if (bytes.length < minimumLength) {
    throw new EncodingError(
      CryptoErrorCode.malformed,
      `a record has at least ${minimumLength} bytes, got ${bytes.length}`,
      { hint: 'The record was truncated; fetch it again.' },
    );
  }
  const suite = requireSuite(bytes[0] as number, 'signed record');
  const keyAt = signerKeyOffset(bytes[labelLengthOffset] as number);
  if (bytes.length < minimumLength + keyAt - signerKeyOffset(0)) {
    throw new EncodingError(CryptoErrorCode.malformed, 'a record ends inside its envelope', {
      hint: 'The record was truncated; fetch it again.',
    });
  }
  const signerKey = bytes.slice(keyAt, keyAt + keyLength.signingPublicKey);
  const signed = bytes.subarray(0, bytes.length - keyLength.signature);
  const signature = bytes.subarray(bytes.length - keyLength.signature);
  if (!sodium().crypto_sign_verify_detached(signature, signed, signerKey)) {
    throw new SignatureError(
      CryptoErrorCode.badSignature,
      'the record signature does not verify over its bytes',
      { hint: 'The record was changed after signing; it is refused.' },
    );
  }
  return { suite, signerKey };
}

/** Reads the label of a record without verifying it (for routing and error messages only). */
export function peekLabel(bytes: Uint8Array): string | undefined {
  const length = bytes[labelLengthOffset];
  if (length === undefined || bytes.length < labelLengthOffset + 1 + length) return undefined;
  try {
    return utf8Decoder.decode(
      bytes.subarray(labelLengthOffset + 1, labelLengthOffset + 1 + length),
    );
  } catch {
    return undefined;
  }
}

/**
 * Verifies and decodes a record of `purpose`: the signature first, over the exact stored bytes;
 * then the label (a signature for another purpose is refused); then every field, refusing any
 * encoding but the canonical one. Says nothing about whether the signer may sign this.
 */
export function openRecord<P extends Purpose>(bytes: Uint8Array, purpose: P): OpenedRecord<P> {
  const { suite, signerKey } = verifyRecordSignature(bytes);
  const expected = purposeLabel(purpose);
  const found = peekLabel(bytes);
  if (found !== expected) {
    throw new SignatureError(
      CryptoErrorCode.wrongPurpose,
      `signed for ${JSON.stringify(found ?? '?')}, expected ${JSON.stringify(expected)}`,
      {
        hint: 'A signature made for one purpose never counts for another.',
        details: { label: found ?? null, expected },
      },
    );
  }
  return decodeVerified(bytes, suite, signerKey, purpose);
}

/**
 * The refusal of a label no current purpose has; a superseded format of a known purpose (a
 * heartbeat of format 1) says so.
 */
export function unknownLabel(label: string): SignatureError {
  const superseded = supersededPurposeOfLabel(label);
  return new SignatureError(
    CryptoErrorCode.wrongPurpose,
    superseded === undefined
      ? `unknown label ${JSON.stringify(label)}`
      : `${JSON.stringify(label)} is a superseded format of ${superseded}; it is no longer read`,
    {
      hint:
        superseded === undefined
          ? 'The record was not made by ratsfach, or by a newer version: upgrade, or refuse it.'
          : `Sign it again in the current format (${purposeLabel(superseded)}).`,
      details: { label, current: superseded === undefined ? null : purposeLabel(superseded) },
    },
  );
}

/**
 * Verifies and decodes a record of any known purpose (the server's check). Same checks as
 * `openRecord`, with the purpose taken from the verified label.
 */
export function openAnyRecord(bytes: Uint8Array): OpenedRecord {
  const { suite, signerKey } = verifyRecordSignature(bytes);
  const label = peekLabel(bytes) ?? '';
  const purpose = purposeOfLabel(label);
  if (purpose === undefined) throw unknownLabel(label);
  return decodeVerified(bytes, suite, signerKey, purpose);
}

function decodeVerified<P extends Purpose>(
  bytes: Uint8Array,
  suite: Suite,
  signerKey: Uint8Array,
  purpose: P,
): OpenedRecord<P> {
  const what = `${purpose} record`;
  const r = new ByteReader(bytes.subarray(0, bytes.length - keyLength.signature), what);
  r.u8();
  const labelLength = r.u8();
  const label = utf8Decoder.decode(r.bytes(labelLength));
  r.bytes(keyLength.signingPublicKey);
  const sequence = r.u64();
  const previousHash = r.bytes(hashLength);
  const body = decodeFields(r, recordSchemas[purpose], purpose);
  r.end();
  // Belt and braces: the canonical encoding of what was decoded must be these very bytes.
  const w = new ByteWriter();
  encodeFields(w, recordSchemas[purpose], body, purpose);
  const bodyStart = signerKeyOffset(labelLength) + keyLength.signingPublicKey + 8 + hashLength;
  if (
    !constantTimeEqual(w.finish(), bytes.subarray(bodyStart, bytes.length - keyLength.signature))
  ) {
    throw new EncodingError(CryptoErrorCode.nonCanonical, `${what} is not canonically encoded`);
  }
  return {
    purpose,
    label,
    suite,
    signerKey,
    signerFingerprint: fingerprint(signerKey),
    sequence,
    previousHash,
    hash: hash512(bytes),
    body: body as unknown as RecordBodies[P],
    bytes,
  };
}

/**
 * The error for a verified record of a purpose that has no place in the chain it was found in
 * (a login proof among committee records, say): a signature made for another purpose.
 */
export const misplacedRecord = (record: OpenedRecord, chain: string): SignatureError =>
  new SignatureError(
    CryptoErrorCode.wrongPurpose,
    `a ${record.purpose} record at position ${record.sequence} has no place in ${chain}`,
    {
      hint: 'A signature made for one purpose never counts for another; the chain is refused.',
      details: { label: record.label, sequence: record.sequence },
    },
  );
