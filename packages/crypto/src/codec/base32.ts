import { CryptoErrorCode, CryptoValidationError } from '../errors.js';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (upper case): readable, and QR codes' alphanumeric mode. */
export const toBase32 = (bytes: Uint8Array): string => {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
};

/** Decodes RFC 4648 base32 without padding; refuses other characters and non-zero pad bits. */
export const fromBase32 = (text: string): Uint8Array => {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = alphabet.indexOf(char);
    if (value < 0) {
      throw new CryptoValidationError(CryptoErrorCode.invalidArgument, `not base32: ${char}`);
    }
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) {
    throw new CryptoValidationError(CryptoErrorCode.invalidArgument, 'base32 has stray bits');
  }
  return Uint8Array.from(out);
};
