import {
  canonicalDecode,
  canonicalEncode,
  type CanonicalValue,
  hashLength,
  IntegrityError,
  type RecordFieldValue,
  type RecordVerifier,
  type VerifiedRecord,
} from '@ratsfach/kernel';

/** What a fake record holds; `signatureValid: false` plays a forged signature. */
export interface FakeRecordInput {
  readonly label: string;
  readonly signerFingerprint: string;
  readonly sequence: number;
  readonly previousHash: Uint8Array;
  readonly fields: Readonly<Record<string, RecordFieldValue>>;
  readonly signatureValid?: boolean;
}

/**
 * Encodes a fake signed record for domain unit tests. Not cryptography: the "signature" is a
 * flag, and the verifier below trusts it. The real codec is in `@ratsfach/crypto`.
 */
export const fakeSignRecord = (input: FakeRecordInput): Uint8Array =>
  canonicalEncode({
    label: input.label,
    signer: input.signerFingerprint,
    sequence: input.sequence,
    previousHash: input.previousHash,
    fields: input.fields as CanonicalValue,
    signature: input.signatureValid === false ? 'forged' : 'valid',
  });

/** A deterministic 64-byte digest (FNV-1a lanes); distinct enough for tests, not a real hash. */
export function fakeHash(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(hashLength);
  for (let lane = 0; lane < hashLength / 4; lane++) {
    let h = (0x811c9dc5 ^ lane) >>> 0;
    for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    h = Math.imul(h ^ bytes.length, 0x01000193) >>> 0;
    out[lane * 4] = h >>> 24;
    out[lane * 4 + 1] = (h >>> 16) & 0xff;
    out[lane * 4 + 2] = (h >>> 8) & 0xff;
    out[lane * 4 + 3] = h & 0xff;
  }
  return out;
}

/**
 * The fake verifier's fingerprint of a public key: hex of the first 32 bytes of `fakeHash`.
 * Deterministic and distinct per key, like the real one; records signed with `fakeSignRecord`
 * must name their signer by it for the domain to match them against certified keys.
 */
export function fakeFingerprint(publicKey: Uint8Array): string {
  let hex = '';
  for (const byte of fakeHash(publicKey).subarray(0, 32)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

const fakeError = (code: string, message: string): IntegrityError =>
  new IntegrityError(code, message, { hint: 'fake verifier of the domain tests' });

/**
 * A `RecordVerifier` for domain unit tests: reads records made by `fakeSignRecord`, refuses a
 * wrong label or a "forged" signature, and names keys by `fakeFingerprint`. `reportLabel` makes
 * it lie about the label, to test that the domain checks the label itself.
 */
export function fakeRecordVerifier(
  options: { readonly reportLabel?: string } = {},
): RecordVerifier {
  return {
    verify(bytes: Uint8Array, expectedLabel: string): VerifiedRecord {
      let decoded: CanonicalValue;
      try {
        decoded = canonicalDecode(bytes);
      } catch {
        throw fakeError('RATSFACH_CRYPTO_RECORD_MALFORMED', 'not a fake record');
      }
      const record = decoded as Record<string, CanonicalValue>;
      if (options.reportLabel === undefined && record.label !== expectedLabel) {
        throw fakeError(
          'RATSFACH_CRYPTO_RECORD_PURPOSE',
          `label ${String(record.label)} is not ${expectedLabel}`,
        );
      }
      if (record.signature !== 'valid')
        throw fakeError('RATSFACH_CRYPTO_SIGNATURE_INVALID', 'bad signature');
      return {
        label: options.reportLabel ?? (record.label as string),
        signerFingerprint: record.signer as string,
        sequence: record.sequence as number,
        previousHash: record.previousHash as Uint8Array,
        hash: fakeHash(bytes),
        fields: record.fields as Readonly<Record<string, RecordFieldValue>>,
      };
    },
    fingerprint: fakeFingerprint,
  };
}
