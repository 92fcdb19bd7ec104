const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const encodeTable = Uint8Array.from(alphabet, (char) => char.charCodeAt(0));
/** Char code to sextet; 255 marks a character outside the alphabet. */
const decodeTable = new Uint8Array(256).fill(255);
for (let i = 0; i < alphabet.length; i++) decodeTable[alphabet.charCodeAt(i)] = i;

const ascii = new TextDecoder();

/** Base64url without padding (RFC 4648 §5); pure, so the domain needs no Buffer. */
export function base64urlEncode(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = encodeTable[n >>> 18] as number;
    out[o++] = encodeTable[(n >>> 12) & 63] as number;
    out[o++] = encodeTable[(n >>> 6) & 63] as number;
    out[o++] = encodeTable[n & 63] as number;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out[o++] = encodeTable[n >>> 18] as number;
    out[o++] = encodeTable[(n >>> 12) & 63] as number;
    if (rest === 2) out[o++] = encodeTable[(n >>> 6) & 63] as number;
  }
  // The output is ASCII, so the native UTF-8 decoder turns it into a string fastest.
  return ascii.decode(out.subarray(0, o));
}

/**
 * Decodes unpadded base64url. Throws a plain RangeError on a bad character, a bad length or
 * non-zero trailing bits (so each byte string has exactly one spelling); callers wrap it in
 * their own typed error.
 */
export function base64urlDecode(text: string): Uint8Array {
  const rest = text.length % 4;
  if (rest === 1) throw new RangeError('base64url length is impossible');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  const sextet = (i: number): number => {
    const code = text.charCodeAt(i);
    const value = code < 256 ? (decodeTable[code] as number) : 255;
    if (value === 255)
      throw new RangeError(`invalid base64url character ${JSON.stringify(text[i])}`);
    return value;
  };
  const full = text.length - rest;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const n = (sextet(i) << 18) | (sextet(i + 1) << 12) | (sextet(i + 2) << 6) | sextet(i + 3);
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (rest > 0) {
    const n =
      (sextet(full) << 18) | (sextet(full + 1) << 12) | (rest === 3 ? sextet(full + 2) << 6 : 0);
    // Bits past the last whole byte must be zero, so each byte string has exactly one spelling.
    if ((n & (rest === 2 ? 0xffff : 0xff)) !== 0)
      throw new RangeError('base64url has non-zero padding bits');
    out[o++] = n >>> 16;
    if (rest === 3) out[o++] = (n >>> 8) & 0xff;
  }
  return out;
}
