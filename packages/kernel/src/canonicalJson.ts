import { IntegrityError, ValidationError } from './errors.js';
import { KernelErrorCode } from './kernelErrorCode.js';
import { base64urlDecode, base64urlEncode } from './base64url.js';

/**
 * A value the canonical encoding carries: JSON plus bytes and bigints. Object members whose
 * value is `undefined` are left out, so an absent optional field and a missing one encode alike.
 */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

const bytesTag = '$bytes';
const bigintTag = '$bigint';

const unsupported = (path: string, why: string): ValidationError =>
  new ValidationError(
    KernelErrorCode.canonicalUnsupported,
    `cannot encode ${path} canonically: ${why}`,
    {
      hint: 'use safe integers, strings, booleans, null, bigint, Uint8Array, arrays and plain objects whose keys do not start with $',
      details: { path },
    },
  );

/**
 * `spelled` maps byte strings just decoded to their base64url text, so checking the canonical
 * form of decoded bytes does not encode them again (the decoder accepts one spelling only).
 */
function write(
  value: unknown,
  path: string,
  out: string[],
  spelled?: ReadonlyMap<Uint8Array, string>,
): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      // Floats have more than one decimal spelling across runtimes; the log holds none.
      if (!Number.isSafeInteger(value))
        throw unsupported(path, `number ${value} is not a safe integer`);
      out.push(String(value === 0 ? 0 : value));
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'bigint':
      out.push(`{"${bigintTag}":"${value.toString(10)}"}`);
      return;
    case 'object':
      break;
    default:
      throw unsupported(path, `type ${typeof value}`);
  }
  if (value instanceof Uint8Array) {
    out.push(`{"${bytesTag}":"${spelled?.get(value) ?? base64urlEncode(value)}"}`);
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, index) => {
      if (index > 0) out.push(',');
      if (item === undefined) throw unsupported(`${path}[${index}]`, 'undefined in an array');
      write(item, `${path}[${index}]`, out, spelled);
    });
    out.push(']');
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw unsupported(path, 'not a plain object');
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  out.push('{');
  keys.forEach((key, index) => {
    if (key.startsWith('$'))
      throw unsupported(`${path}.${key}`, 'keys starting with $ are reserved');
    if (index > 0) out.push(',');
    out.push(JSON.stringify(key), ':');
    write(record[key], `${path}.${key}`, out, spelled);
  });
  out.push('}');
}

/**
 * Encodes a value as canonical JSON: keys sorted by UTF-16 code units, no whitespace, safe
 * integers only, `Uint8Array` as `{"$bytes":"<base64url>"}`, bigint as `{"$bigint":"<decimal>"}`.
 * The same value always gives the same string. Throws ValidationError on anything else.
 */
export function canonicalStringify(value: CanonicalValue): string {
  const out: string[] = [];
  write(value, '$', out);
  return out.join('');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** `canonicalStringify` as UTF-8 bytes: what the event store stores and hashes. */
export const canonicalEncode = (value: CanonicalValue): Uint8Array =>
  encoder.encode(canonicalStringify(value));

const malformed = (why: string, cause?: unknown): IntegrityError =>
  new IntegrityError(KernelErrorCode.canonicalMalformed, `malformed canonical JSON: ${why}`, {
    hint: 'the stored bytes were not written by this encoder or were changed; run the event store verify and restore from backup',
    cause,
  });

function revive(value: unknown, spelled: Map<Uint8Array, string>): CanonicalValue {
  if (value === null || typeof value !== 'object') return value as CanonicalValue;
  if (Array.isArray(value)) return value.map((item) => revive(item, spelled));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === bytesTag) {
    const text = record[bytesTag];
    if (typeof text !== 'string') throw malformed('a $bytes tag must hold a string');
    try {
      const bytes = base64urlDecode(text);
      spelled.set(bytes, text);
      return bytes;
    } catch (error) {
      throw malformed('a $bytes tag holds invalid base64url', error);
    }
  }
  if (keys.length === 1 && keys[0] === bigintTag) {
    const text = record[bigintTag];
    if (typeof text !== 'string' || !/^-?(0|[1-9]\d*)$/.test(text)) {
      throw malformed('a $bigint tag must hold a decimal string');
    }
    return BigInt(text);
  }
  const out: Record<string, CanonicalValue> = {};
  for (const key of keys) {
    if (key.startsWith('$')) throw malformed(`reserved key ${JSON.stringify(key)}`);
    out[key] = revive(record[key], spelled);
  }
  return out;
}

/**
 * Decodes bytes written by `canonicalEncode`. Refuses (IntegrityError) invalid UTF-8, invalid
 * JSON, bad tags, and any spelling other than the canonical one, so two different byte strings
 * never decode to the same value.
 */
export function canonicalDecode(bytes: Uint8Array): CanonicalValue {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw malformed('not UTF-8', error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw malformed('not JSON', error);
  }
  const spelled = new Map<Uint8Array, string>();
  const value = revive(parsed, spelled);
  let again: string;
  try {
    const out: string[] = [];
    write(value, '$', out, spelled);
    again = out.join('');
  } catch (error) {
    throw malformed('holds a value the encoding does not allow', error);
  }
  if (again !== text)
    throw malformed('not in canonical form (key order, spacing or number spelling)');
  return value;
}
