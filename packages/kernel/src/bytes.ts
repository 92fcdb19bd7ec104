/**
 * Byte-wise equality of two byte strings. Not constant-time: for comparing public values
 * (hashes, chain heads, record fields). `@ratsfach/crypto` has `constantTimeEqual` for secrets.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The parts one after another in a new array. The one place byte strings are joined (MAC and
 * KDF inputs, associated data, sealed blobs), so no caller hand-counts offsets.
 */
export const concatBytes = (...parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** Lexicographic order of byte strings (a shorter prefix sorts first). */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
};
