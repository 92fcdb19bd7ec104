import { isValidId } from '@ratsfach/kernel';
import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import type { Suite } from '../suite.js';

/** The ids every encrypted object of one document version is bound to (associated data). */
export interface ContentBinding {
  readonly tenantId: string;
  readonly documentId: string;
  /** Version number: 1 for the first version, as in the signed version record. */
  readonly version: number;
  /** The committee key epoch the version's content key is wrapped under. */
  readonly epoch: number;
}

/** A key slot is also bound to the committee whose epoch key wraps it. */
export interface KeySlotBinding extends ContentBinding {
  readonly committeeId: string;
}

const encoder = new TextEncoder();

const invalid = (what: string, value: unknown): CryptoValidationError =>
  new CryptoValidationError(CryptoErrorCode.invalidArgument, `invalid ${what}: ${String(value)}`, {
    hint: 'ids are [a-z0-9_]{1,64}; version and epoch are integers from 0 to 2^32-1',
    details: { what },
  });

const checkId = (what: string, id: string): Uint8Array => {
  if (typeof id !== 'string' || !isValidId(id)) throw invalid(what, id);
  return encoder.encode(id);
};

const checkU32 = (what: string, value: number): number => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(what, value);
  return value;
};

/**
 * The associated data of one object kind: `label` (ASCII, 1 length byte), the suite byte, then
 * each id as 1 length byte + ASCII, then version and epoch as big-endian u32. Every field has a
 * length or fixed size, so two different bindings never encode to the same bytes.
 * `extra` bytes of room are left at the end (zero) for a per-chunk index.
 */
export const encodeBinding = (
  label: string,
  suite: Suite,
  binding: ContentBinding,
  committeeId: string | undefined,
  extra = 0,
): Uint8Array => {
  const parts: Uint8Array[] = [encoder.encode(label), checkId('tenantId', binding.tenantId)];
  if (committeeId !== undefined) parts.push(checkId('committeeId', committeeId));
  parts.push(checkId('documentId', binding.documentId));
  const version = checkU32('version', binding.version);
  const epoch = checkU32('epoch', binding.epoch);
  const length = parts.reduce((n, p) => n + 1 + p.length, 1) + 8 + extra;
  const out = new Uint8Array(length);
  let at = 0;
  const first = parts[0] as Uint8Array;
  out[at++] = first.length;
  out.set(first, at);
  at += first.length;
  out[at++] = suite;
  for (const part of parts.slice(1)) {
    out[at++] = part.length;
    out.set(part, at);
    at += part.length;
  }
  const view = new DataView(out.buffer);
  view.setUint32(at, version);
  view.setUint32(at + 4, epoch);
  return out;
};
