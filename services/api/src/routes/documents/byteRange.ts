/** A satisfiable byte range of an object: `length` bytes from `offset`. */
export interface SatisfiableRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * Reads a `Range` header against an object of `size` bytes (RFC 9110 14.1.2): `bytes=a-b`,
 * `bytes=a-` or `bytes=-n`. Returns null when the whole object is to be sent (no header, another
 * unit, several ranges, or a syntax this server ignores, as the RFC allows), the range when it
 * is satisfiable, and 'unsatisfiable' when it starts at or beyond the end (answer 416).
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): SatisfiableRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const offset = Number(first);
  if (last !== '' && Number(last) < offset) return null;
  if (offset >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { offset, length: end - offset + 1 };
}
