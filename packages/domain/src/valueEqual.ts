import { bytesEqual } from '@ratsfach/kernel';

/**
 * Structural equality over the values records and events hold: primitives, bigints, byte
 * strings, arrays and plain objects. A number never equals a bigint: a record that encodes a
 * field with another type than the domain expects does not match.
 */
export function valueEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && bytesEqual(a, b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => valueEqual(item, b[index]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const ka = Object.keys(ra).filter((key) => ra[key] !== undefined);
    const kb = Object.keys(rb).filter((key) => rb[key] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((key) => Object.hasOwn(rb, key) && valueEqual(ra[key], rb[key]));
  }
  return false;
}
