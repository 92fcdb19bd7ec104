import t from 'tap';
import { type FieldType, type RecordFieldValue, t as ft } from '@ratsfach/kernel';
import { ByteReader } from './byteReader.js';
import { ByteWriter } from './byteWriter.js';
import { decodeValue, encodeValue } from './fieldCodec.js';
import { CryptoErrorCode, CryptoValidationError, EncodingError } from '../errors.js';

const encode = (type: FieldType, value: RecordFieldValue): Uint8Array => {
  const w = new ByteWriter();
  encodeValue(w, type, value, 'f');
  return w.finish();
};
const decode = (type: FieldType, bytes: Uint8Array): RecordFieldValue => {
  const r = new ByteReader(bytes, 'test');
  const value = decodeValue(r, type, 'f');
  r.end();
  return value;
};

t.test('every field type round-trips to the same value and bytes', async (t) => {
  const cases: [FieldType, RecordFieldValue][] = [
    [ft.u8, 255],
    [ft.u32, 0xffffffff],
    [ft.u64, Number.MAX_SAFE_INTEGER],
    [ft.bool, true],
    [ft.bytes(3), Uint8Array.of(1, 2, 3)],
    [ft.varbytes(10), Uint8Array.of(9, 9)],
    [ft.id, 'finance_2026'],
    [ft.text(50), 'Stadtrat Ausschuss für Öffentliches'],
    [ft.fingerprint, 'ab'.repeat(32)],
    [ft.choice(['x', 'y']), 'y'],
    [ft.optional(ft.u8), null],
    [ft.optional(ft.u8), 7],
    [ft.set(ft.u8, 5), [1, 2, 3]],
    [ft.list(ft.u8, 5), [3, 1, 2]],
    [ft.map(ft.u8, 5), { a: 1, b: 2 }],
    [
      ft.struct([
        ['x', ft.u8],
        ['y', ft.id],
      ]),
      { x: 1, y: 'z' },
    ],
  ];
  for (const [type, value] of cases) {
    const bytes = encode(type, value);
    t.same(decode(type, bytes), value, type.kind);
    t.same(encode(type, decode(type, bytes)), bytes, `${type.kind} re-encodes to the same bytes`);
  }
});

t.test('a set is sorted on encoding and refused with duplicates', async (t) => {
  t.same(decode(ft.set(ft.u8, 5), encode(ft.set(ft.u8, 5), [3, 1, 2])), [1, 2, 3]);
  t.throws(() => encode(ft.set(ft.u8, 5), [1, 1]), CryptoValidationError);
});

t.test('decoding refuses what is not canonical or not well formed', async (t) => {
  const cases: [string, FieldType, number[], string][] = [
    ['unsorted set', ft.set(ft.u8, 5), [0, 0, 0, 2, 2, 1], CryptoErrorCode.nonCanonical],
    ['duplicate set item', ft.set(ft.u8, 5), [0, 0, 0, 2, 1, 1], CryptoErrorCode.nonCanonical],
    [
      'unsorted map',
      ft.map(ft.u8, 5),
      [0, 0, 0, 2, 1, 98, 1, 1, 97, 2],
      CryptoErrorCode.nonCanonical,
    ],
    ['boolean 2', ft.bool, [2], CryptoErrorCode.nonCanonical],
    ['presence byte 2', ft.optional(ft.u8), [2, 1], CryptoErrorCode.nonCanonical],
    ['u64 above 2^53', ft.u64, [0, 0x20, 0, 0, 0, 0, 0, 0], CryptoErrorCode.malformed],
    ['unknown choice', ft.choice(['x']), [1], CryptoErrorCode.malformed],
    ['id with a dash', ft.id, [3, 97, 45, 98], CryptoErrorCode.malformed],
    ['empty id', ft.id, [0], CryptoErrorCode.malformed],
    ['invalid UTF-8', ft.text(10), [0, 2, 0xc0, 0xaf], CryptoErrorCode.malformed],
    ['varbytes over its maximum', ft.varbytes(1), [0, 0, 0, 2, 1, 1], CryptoErrorCode.malformed],
    ['list over its maximum', ft.list(ft.u8, 1), [0, 0, 0, 2, 1, 1], CryptoErrorCode.malformed],
    ['truncated', ft.u32, [0, 0, 1], CryptoErrorCode.malformed],
    ['trailing byte', ft.u8, [1, 2], CryptoErrorCode.nonCanonical],
  ];
  for (const [name, type, bytes, code] of cases) {
    const err = t.throws(
      () => decode(type, Uint8Array.from(bytes)),
      EncodingError,
      name,
    ) as EncodingError;
    t.equal(err.code, code, name);
  }
});

t.test('encoding refuses values outside their type', async (t) => {
  const cases: [FieldType, RecordFieldValue][] = [
    [ft.u8, 256],
    [ft.u32, -1],
    [ft.u64, 1.5],
    [ft.bytes(2), Uint8Array.of(1)],
    [ft.id, 'Upper'],
    [ft.text(2), 'abc'],
    [ft.fingerprint, 'AB'.repeat(32)],
    [ft.choice(['x']), 'z'],
    [ft.struct([['x', ft.u8]]), {}],
  ];
  for (const [type, value] of cases) {
    const err = t.throws(
      () => encode(type, value),
      CryptoValidationError,
      type.kind,
    ) as CryptoValidationError;
    t.equal(err.code, CryptoErrorCode.invalidArgument);
  }
});
