/**
 * The parts one after another in a new array. The one place this package joins byte strings
 * (MAC and KDF inputs, associated data, sealed blobs), so no caller hand-counts offsets.
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
