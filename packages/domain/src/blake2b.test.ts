import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { blake2b, keyFingerprint } from './blake2b.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

t.test('gives the RFC 7693 answer for "abc"', async (t) => {
  t.equal(
    hex(blake2b(new TextEncoder().encode('abc'))),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
});

t.test("equals Node's blake2b512 for inputs around the block size", async (t) => {
  for (const length of [0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 4096]) {
    const input = new Uint8Array(randomBytes(length));
    t.equal(
      hex(blake2b(input)),
      createHash('blake2b512').update(input).digest('hex'),
      `${length} bytes`,
    );
  }
});

t.test('gives the reference keyed answer for the empty input', async (t) => {
  const key = Uint8Array.from({ length: 64 }, (_, i) => i);
  t.equal(
    hex(blake2b(new Uint8Array(0), 64, key)),
    '10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568',
  );
});

t.test(
  "computes key fingerprints exactly as the crypto package's known-answer vectors",
  async (t) => {
    const path = fileURLToPath(new URL('../../crypto/vectors/records.json', import.meta.url));
    const vectors = JSON.parse(readFileSync(path, 'utf8')) as {
      keys: Record<string, { publicKey?: string; fingerprint?: string }>;
    };
    let checked = 0;
    for (const [name, key] of Object.entries(vectors.keys)) {
      if (key.publicKey === undefined || key.fingerprint === undefined) continue;
      t.equal(keyFingerprint(fromHex(key.publicKey)), key.fingerprint, name);
      checked += 1;
    }
    t.ok(checked > 0, 'at least one vector was checked');
  },
);

t.test('refuses impossible lengths', async (t) => {
  t.throws(() => blake2b(new Uint8Array(1), 0), RangeError);
  t.throws(() => blake2b(new Uint8Array(1), 65), RangeError);
  t.throws(() => blake2b(new Uint8Array(1), 32, new Uint8Array(65)), RangeError);
});
