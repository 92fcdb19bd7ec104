import {
  compareBytes,
  isValidId,
  type FieldType,
  type RecordFieldValue,
  type Schema,
} from '@ratsfach/kernel';
import { CryptoErrorCode, CryptoValidationError, EncodingError } from '../errors.js';
import type { ByteReader } from './byteReader.js';
import { ByteWriter } from './byteWriter.js';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const invalid = (path: string, why: string): CryptoValidationError =>
  new CryptoValidationError(CryptoErrorCode.invalidArgument, `field ${path}: ${why}`, {
    hint: 'Pass a value of the type the record schema declares.',
    details: { field: path },
  });

const malformed = (path: string, why: string): EncodingError =>
  new EncodingError(CryptoErrorCode.malformed, `field ${path}: ${why}`, {
    hint: 'The bytes are not a valid ratsfach record.',
    details: { field: path },
  });

const nonCanonical = (path: string, why: string): EncodingError =>
  new EncodingError(CryptoErrorCode.nonCanonical, `field ${path}: ${why}`, {
    hint: 'Only the canonical encoding is accepted; the bytes were re-encoded or changed.',
    details: { field: path },
  });

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

const fromHex = (text: string, path: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(text)) throw invalid(path, 'expected 64 lowercase hex digits');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
};

const isInteger = (value: RecordFieldValue, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

const isRecord = (value: RecordFieldValue): value is { readonly [key: string]: RecordFieldValue } =>
  typeof value === 'object' &&
  value !== null &&
  !(value instanceof Uint8Array) &&
  !Array.isArray(value);

/** Encodes `value` of `type` into `w`, refusing values the type does not allow. */
export function encodeValue(
  w: ByteWriter,
  type: FieldType,
  value: RecordFieldValue,
  path: string,
): void {
  switch (type.kind) {
    case 'u8':
      if (!isInteger(value, 0xff)) throw invalid(path, 'expected an integer 0..255');
      return w.u8(value);
    case 'u32':
      if (!isInteger(value, 0xffffffff)) throw invalid(path, 'expected an integer 0..2^32-1');
      return w.u32(value);
    case 'u64':
      if (!isInteger(value, Number.MAX_SAFE_INTEGER)) {
        throw invalid(path, 'expected an integer 0..2^53-1');
      }
      return w.u64(value);
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(path, 'expected a boolean');
      return w.u8(value ? 1 : 0);
    case 'bytes':
      if (!(value instanceof Uint8Array) || value.length !== type.length) {
        throw invalid(path, `expected ${type.length} bytes`);
      }
      return w.bytes(value);
    case 'varbytes':
      if (!(value instanceof Uint8Array) || value.length > type.max) {
        throw invalid(path, `expected at most ${type.max} bytes`);
      }
      w.u32(value.length);
      return w.bytes(value);
    case 'id':
      if (typeof value !== 'string' || !isValidId(value)) {
        throw invalid(path, 'expected an id of [a-z0-9_]{1,64}');
      }
      w.u8(value.length);
      return w.bytes(utf8.encode(value));
    case 'text': {
      if (typeof value !== 'string') throw invalid(path, 'expected text');
      const bytes = utf8.encode(value);
      if (bytes.length > type.max || bytes.length > 0xffff) {
        throw invalid(path, `text longer than ${type.max} bytes`);
      }
      w.u16(bytes.length);
      return w.bytes(bytes);
    }
    case 'fingerprint':
      if (typeof value !== 'string') throw invalid(path, 'expected a fingerprint (hex)');
      return w.bytes(fromHex(value, path));
    case 'choice': {
      const index = typeof value === 'string' ? type.values.indexOf(value) : -1;
      if (index < 0) throw invalid(path, `expected one of ${type.values.join(', ')}`);
      return w.u8(index);
    }
    case 'optional':
      if (value === null) return w.u8(0);
      w.u8(1);
      return encodeValue(w, type.of, value, path);
    case 'list': {
      if (!Array.isArray(value)) throw invalid(path, 'expected a list');
      const items = value as readonly RecordFieldValue[];
      if (items.length > type.max) throw invalid(path, `more than ${type.max} items`);
      let encoded = items.map((item, i) => encodeOne(type.of, item, `${path}[${i}]`));
      if (type.set === true) {
        encoded = [...encoded].sort(compareBytes);
        for (let i = 1; i < encoded.length; i++) {
          if (compareBytes(encoded[i - 1] as Uint8Array, encoded[i] as Uint8Array) === 0) {
            throw invalid(path, 'duplicate item in a set');
          }
        }
      }
      w.u32(encoded.length);
      for (const item of encoded) w.bytes(item);
      return;
    }
    case 'map': {
      if (!isRecord(value)) throw invalid(path, 'expected an object');
      const keys = Object.keys(value).sort(compareKeys);
      if (keys.length > type.max) throw invalid(path, `more than ${type.max} entries`);
      w.u32(keys.length);
      for (const key of keys) {
        encodeValue(w, { kind: 'id' }, key, `${path}.${key}`);
        encodeValue(w, type.of, value[key] as RecordFieldValue, `${path}.${key}`);
      }
      return;
    }
    case 'struct':
      if (!isRecord(value)) throw invalid(path, 'expected an object');
      return encodeFields(w, type.fields, value, path);
  }
}

const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const encodeOne = (type: FieldType, value: RecordFieldValue, path: string): Uint8Array => {
  const w = new ByteWriter();
  encodeValue(w, type, value, path);
  return w.finish();
};

/** Encodes the fields of `schema` in schema order; refuses missing or unknown fields. */
export function encodeFields(
  w: ByteWriter,
  schema: Schema,
  value: { readonly [key: string]: RecordFieldValue },
  path: string,
): void {
  const names = new Set(schema.map(([name]) => name));
  for (const key of Object.keys(value)) {
    if (!names.has(key)) throw invalid(`${path}.${key}`, 'not a field of this record');
  }
  for (const [name, type] of schema) {
    const field = value[name];
    if (field === undefined) throw invalid(`${path}.${name}`, 'missing');
    encodeValue(w, type, field, `${path}.${name}`);
  }
}

/** Decodes one value of `type`, refusing every encoding but the canonical one. */
export function decodeValue(r: ByteReader, type: FieldType, path: string): RecordFieldValue {
  switch (type.kind) {
    case 'u8':
      return r.u8();
    case 'u32':
      return r.u32();
    case 'u64':
      return r.u64();
    case 'bool': {
      const b = r.u8();
      if (b > 1) throw nonCanonical(path, `boolean byte ${b}`);
      return b === 1;
    }
    case 'bytes':
      return r.bytes(type.length);
    case 'varbytes': {
      const length = r.u32();
      if (length > type.max) throw malformed(path, `${length} bytes, at most ${type.max}`);
      return r.bytes(length);
    }
    case 'id': {
      const length = r.u8();
      const text = decodeUtf8(r.bytes(length), path);
      if (!isValidId(text)) throw malformed(path, 'not an id of [a-z0-9_]{1,64}');
      return text;
    }
    case 'text': {
      const length = r.u16();
      if (length > type.max) throw malformed(path, `text of ${length} bytes, at most ${type.max}`);
      return decodeUtf8(r.bytes(length), path);
    }
    case 'fingerprint':
      return hex(r.bytes(32));
    case 'choice': {
      const index = r.u8();
      const choice = type.values[index];
      if (choice === undefined) throw malformed(path, `unknown choice ${index}`);
      return choice;
    }
    case 'optional': {
      const flag = r.u8();
      if (flag === 0) return null;
      if (flag !== 1) throw nonCanonical(path, `presence byte ${flag}`);
      return decodeValue(r, type.of, path);
    }
    case 'list': {
      const count = r.u32();
      if (count > type.max) throw malformed(path, `${count} items, at most ${type.max}`);
      const items: RecordFieldValue[] = [];
      let previous: Uint8Array | undefined;
      for (let i = 0; i < count; i++) {
        const start = r.position;
        items.push(decodeValue(r, type.of, `${path}[${i}]`));
        if (type.set === true) {
          const encoded = encodeOne(type.of, items[i] as RecordFieldValue, path);
          if (previous !== undefined && compareBytes(previous, encoded) >= 0) {
            throw nonCanonical(path, 'set items not strictly ascending (unsorted or duplicate)');
          }
          if (encoded.length !== r.position - start) throw nonCanonical(path, 'item re-encodes');
          previous = encoded;
        }
      }
      return items;
    }
    case 'map': {
      const count = r.u32();
      if (count > type.max) throw malformed(path, `${count} entries, at most ${type.max}`);
      const out: Record<string, RecordFieldValue> = {};
      let previous: string | undefined;
      for (let i = 0; i < count; i++) {
        const key = decodeValue(r, { kind: 'id' }, `${path}{${i}}`) as string;
        if (previous !== undefined && compareKeys(previous, key) >= 0) {
          throw nonCanonical(path, 'map keys not strictly ascending (unsorted or duplicate)');
        }
        previous = key;
        out[key] = decodeValue(r, type.of, `${path}.${key}`);
      }
      return out;
    }
    case 'struct':
      return decodeFields(r, type.fields, path);
  }
}

/** Decodes the fields of `schema` in schema order. */
export function decodeFields(
  r: ByteReader,
  schema: Schema,
  path: string,
): { [key: string]: RecordFieldValue } {
  const out: { [key: string]: RecordFieldValue } = {};
  for (const [name, type] of schema) out[name] = decodeValue(r, type, `${path}.${name}`);
  return out;
}

const decodeUtf8 = (bytes: Uint8Array, path: string): string => {
  try {
    return utf8Strict.decode(bytes);
  } catch (cause) {
    throw new EncodingError(CryptoErrorCode.malformed, `field ${path}: invalid UTF-8`, {
      cause,
      details: { field: path },
    });
  }
};
