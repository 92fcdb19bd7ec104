/**
 * BLAKE2b (RFC 7693) in plain TypeScript, so the domain can compute key fingerprints without
 * libsodium or `node:crypto`. Used for small inputs (public keys); not a hot path.
 */

// IV as (low, high) 32-bit halves of each 64-bit word.
const iv = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
  0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

const sigma = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
]
  .flat()
  .map((index) => index * 2);

const v = new Uint32Array(32);
const m = new Uint32Array(32);

function add64(a: number, b: number): void {
  const low = (v[a] as number) + (v[b] as number);
  let high = (v[a + 1] as number) + (v[b + 1] as number);
  if (low >= 0x100000000) high++;
  v[a] = low;
  v[a + 1] = high;
}

function add64m(a: number, b0: number, b1: number): void {
  const low = (v[a] as number) + b0;
  let high = (v[a + 1] as number) + b1;
  if (low >= 0x100000000) high++;
  v[a] = low;
  v[a + 1] = high;
}

function mix(a: number, b: number, c: number, d: number, x: number, y: number): void {
  add64(a, b);
  add64m(a, m[x] as number, m[x + 1] as number);
  let x0 = (v[d] as number) ^ (v[a] as number);
  let x1 = (v[d + 1] as number) ^ (v[a + 1] as number);
  v[d] = x1;
  v[d + 1] = x0;
  add64(c, d);
  x0 = (v[b] as number) ^ (v[c] as number);
  x1 = (v[b + 1] as number) ^ (v[c + 1] as number);
  v[b] = (x0 >>> 24) ^ (x1 << 8);
  v[b + 1] = (x1 >>> 24) ^ (x0 << 8);
  add64(a, b);
  add64m(a, m[y] as number, m[y + 1] as number);
  x0 = (v[d] as number) ^ (v[a] as number);
  x1 = (v[d + 1] as number) ^ (v[a + 1] as number);
  v[d] = (x0 >>> 16) ^ (x1 << 16);
  v[d + 1] = (x1 >>> 16) ^ (x0 << 16);
  add64(c, d);
  x0 = (v[b] as number) ^ (v[c] as number);
  x1 = (v[b + 1] as number) ^ (v[c + 1] as number);
  v[b] = (x1 >>> 31) ^ (x0 << 1);
  v[b + 1] = (x0 >>> 31) ^ (x1 << 1);
}

function compress(h: Uint32Array, block: Uint8Array, counter: number, last: boolean): void {
  for (let i = 0; i < 16; i++) {
    v[i] = h[i] as number;
    v[i + 16] = iv[i] as number;
  }
  v[24] = (v[24] as number) ^ counter;
  v[25] = (v[25] as number) ^ Math.floor(counter / 0x100000000);
  if (last) {
    v[28] = ~(v[28] as number);
    v[29] = ~(v[29] as number);
  }
  for (let i = 0; i < 32; i++) {
    m[i] =
      (block[i * 4] as number) |
      ((block[i * 4 + 1] as number) << 8) |
      ((block[i * 4 + 2] as number) << 16) |
      ((block[i * 4 + 3] as number) << 24);
  }
  for (let round = 0; round < 12; round++) {
    const s = round * 16;
    const at = (k: number) => sigma[s + k] as number;
    mix(0, 8, 16, 24, at(0), at(1));
    mix(2, 10, 18, 26, at(2), at(3));
    mix(4, 12, 20, 28, at(4), at(5));
    mix(6, 14, 22, 30, at(6), at(7));
    mix(0, 10, 20, 30, at(8), at(9));
    mix(2, 12, 22, 24, at(10), at(11));
    mix(4, 14, 16, 26, at(12), at(13));
    mix(6, 8, 18, 28, at(14), at(15));
  }
  for (let i = 0; i < 16; i++) h[i] = (h[i] as number) ^ (v[i] as number) ^ (v[i + 16] as number);
}

/**
 * BLAKE2b of `input` with an output of `outputLength` bytes (1 to 64) and an optional key of up
 * to 64 bytes: the same bytes as libsodium's `crypto_generichash(outputLength, input, key)`.
 */
export function blake2b(
  input: Uint8Array,
  outputLength = 64,
  key: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (!Number.isInteger(outputLength) || outputLength < 1 || outputLength > 64) {
    throw new RangeError('BLAKE2b output length must be 1 to 64 bytes');
  }
  if (key.length > 64) throw new RangeError('BLAKE2b key must be at most 64 bytes');
  const h = new Uint32Array(iv);
  h[0] = (h[0] as number) ^ 0x01010000 ^ (key.length << 8) ^ outputLength;
  const block = new Uint8Array(128);
  let filled = 0;
  let counter = 0;
  const absorb = (bytes: Uint8Array) => {
    for (const byte of bytes) {
      if (filled === 128) {
        counter += 128;
        compress(h, block, counter, false);
        filled = 0;
      }
      block[filled++] = byte;
    }
  };
  if (key.length > 0) {
    absorb(key);
    for (; filled < 128; filled++) block[filled] = 0;
  }
  absorb(input);
  counter += filled;
  block.fill(0, filled);
  compress(h, block, counter, true);
  const out = new Uint8Array(outputLength);
  for (let i = 0; i < outputLength; i++) out[i] = ((h[i >> 2] as number) >>> (8 * (i & 3))) & 0xff;
  return out;
}

const fingerprintLabel = new TextEncoder().encode('ratsfach/v1/fingerprint');

/**
 * The fingerprint of a public key as `@ratsfach/crypto` defines it (BLAKE2b-256 keyed with the
 * label `ratsfach/v1/fingerprint`, as 64 lowercase hex digits): how certificates and
 * `VerifiedRecord.signerFingerprint` name a key.
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  let hex = '';
  for (const byte of blake2b(publicKey, 32, fingerprintLabel))
    hex += byte.toString(16).padStart(2, '0');
  return hex;
}
