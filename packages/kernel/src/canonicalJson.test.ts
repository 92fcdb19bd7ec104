import t from 'tap';
import { IntegrityError, ValidationError } from './errors.js';
import { KernelErrorCode } from './kernelErrorCode.js';
import { canonicalDecode, canonicalEncode, canonicalStringify } from './canonicalJson.js';
import { base64urlDecode, base64urlEncode } from './base64url.js';

const text = (s: string) => new TextEncoder().encode(s);

t.test('sorts keys, drops undefined members and tags bytes and bigints', async (t) => {
  const value = {
    b: 1,
    a: [true, null, 'x'],
    c: new Uint8Array([0, 255, 16]),
    d: 12345678901234567890n,
    e: undefined,
  };
  t.equal(
    canonicalStringify(value),
    '{"a":[true,null,"x"],"b":1,"c":{"$bytes":"AP8Q"},"d":{"$bigint":"12345678901234567890"}}',
  );
});

t.test('the same value gives the same bytes whatever the key order', async (t) => {
  const one = canonicalEncode({ x: { q: 1, p: 2 }, y: 'é' });
  const two = canonicalEncode({ y: 'é', x: { p: 2, q: 1 } });
  t.same([...one], [...two]);
});

t.test('round-trips bytes, bigints, nested objects and unicode', async (t) => {
  const value = {
    bytes: new Uint8Array([1, 2, 3, 4, 5]),
    big: -42n,
    nested: { list: [{ k: 'ü😀' }], empty: new Uint8Array(0) },
  };
  const decoded = canonicalDecode(canonicalEncode(value)) as typeof value;
  t.same([...decoded.bytes], [1, 2, 3, 4, 5]);
  t.ok(decoded.bytes instanceof Uint8Array, 'bytes come back as Uint8Array');
  t.equal(decoded.big, -42n);
  t.equal(decoded.nested.list[0]?.k, 'ü😀');
  t.equal(decoded.nested.empty.length, 0);
});

t.test('refuses values it cannot encode canonically', async (t) => {
  const cases: [string, unknown][] = [
    ['a float', { x: 1.5 }],
    ['an unsafe integer', { x: 2 ** 60 }],
    ['NaN', { x: Number.NaN }],
    ['a reserved key', { $bytes: 'x' }],
    ['a Date', { x: new Date(0) }],
    ['a function', { x: () => 1 }],
    ['undefined in an array', [undefined]],
  ];
  for (const [name, value] of cases) {
    t.throws(
      () => canonicalStringify(value as never),
      { constructor: ValidationError, code: KernelErrorCode.canonicalUnsupported },
      name,
    );
  }
});

t.test('refuses bytes that are not canonical', async (t) => {
  const cases: [string, Uint8Array][] = [
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
    ['not JSON', text('{"a":')],
    ['unsorted keys', text('{"b":1,"a":2}')],
    ['whitespace', text('{"a": 1}')],
    ['a float', text('{"a":1.5}')],
    ['a number spelled otherwise', text('{"a":1e2}')],
    ['a bad base64url tag', text('{"a":{"$bytes":"***"}}')],
    ['base64url with padding bits set', text('{"a":{"$bytes":"AB"}}')],
    ['a bad bigint tag', text('{"a":{"$bigint":"01"}}')],
    ['an unknown tag', text('{"a":{"$date":"x"}}')],
    ['a bigint tag holding a number', text('{"a":{"$bigint":1}}')],
  ];
  for (const [name, bytes] of cases) {
    t.throws(
      () => canonicalDecode(bytes),
      { constructor: IntegrityError, code: KernelErrorCode.canonicalMalformed },
      name,
    );
  }
});

t.test('base64url round-trips every length and refuses bad input', async (t) => {
  for (let n = 0; n < 20; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    t.same([...base64urlDecode(base64urlEncode(bytes))], [...bytes], `length ${n}`);
  }
  t.equal(base64urlEncode(new Uint8Array([0xfb, 0xff])), '-_8');
  t.throws(() => base64urlDecode('A'), RangeError);
  t.throws(() => base64urlDecode('AA=='), RangeError);
});

t.test(
  "base64url agrees with Node's encoder on larger inputs and refuses characters outside its alphabet",
  async (t) => {
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) & 0xff);
    const text = base64urlEncode(bytes);
    t.equal(text, Buffer.from(bytes).toString('base64url'));
    t.same([...base64urlDecode(text)], [...bytes]);
    t.throws(() => base64urlDecode('AAé='), RangeError);
    t.throws(
      () => base64urlDecode('AA+A'),
      RangeError,
      'the plain base64 alphabet is not base64url',
    );
  },
);
