import { hashLength, isValidId } from '@ratsfach/kernel';
import { isIsoTime } from './validate.js';

/**
 * A small description of a stored value's shape, checked when events are decoded (and
 * encoded), so nothing malformed leaves the serialiser in either direction.
 */
export type FieldShape =
  | 'string'
  | 'id'
  | 'int'
  | 'bigint'
  | 'bytes'
  | 'hash'
  | 'boolean'
  | 'time'
  | 'fingerprint'
  | { readonly nullable: FieldShape }
  | { readonly oneOf: readonly string[] }
  | { readonly arrayOf: ObjectShape }
  | { readonly recordOf: FieldShape }
  | { readonly object: ObjectShape };

/** The shape of a plain object: every key listed, no other key allowed. */
export type ObjectShape = { readonly [key: string]: FieldShape };

/** An object shape whose keys are exactly those of `T`. */
export type ShapeOf<T> = { readonly [K in keyof T]-?: FieldShape };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Uint8Array) &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** Returns the path of the first part of `value` that does not fit `shape`, or null. */
export function shapeProblem(shape: FieldShape, value: unknown, path: string): string | null {
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string':
        return typeof value === 'string' ? null : `${path}: expected a string`;
      case 'id':
        return typeof value === 'string' && isValidId(value) ? null : `${path}: expected an id`;
      case 'int':
        return Number.isSafeInteger(value) ? null : `${path}: expected an integer`;
      case 'bigint':
        return typeof value === 'bigint' ? null : `${path}: expected a bigint`;
      case 'bytes':
        return value instanceof Uint8Array ? null : `${path}: expected bytes`;
      case 'hash':
        return value instanceof Uint8Array && value.length === hashLength
          ? null
          : `${path}: expected a ${hashLength}-byte hash`;
      case 'boolean':
        return typeof value === 'boolean' ? null : `${path}: expected a boolean`;
      case 'fingerprint':
        return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
          ? null
          : `${path}: expected a key fingerprint (64 hex digits)`;
      case 'time':
        return typeof value === 'string' && isIsoTime(value)
          ? null
          : `${path}: expected an ISO 8601 UTC time`;
      default:
        return `${path}: unknown shape`;
    }
  }
  if ('nullable' in shape) return value === null ? null : shapeProblem(shape.nullable, value, path);
  if ('oneOf' in shape) {
    return typeof value === 'string' && shape.oneOf.includes(value)
      ? null
      : `${path}: expected one of ${shape.oneOf.join(', ')}`;
  }
  if ('arrayOf' in shape) {
    if (!Array.isArray(value)) return `${path}: expected an array`;
    for (let i = 0; i < value.length; i++) {
      const problem = objectShapeProblem(shape.arrayOf, value[i], `${path}[${i}]`);
      if (problem !== null) return problem;
    }
    return null;
  }
  if ('recordOf' in shape) {
    if (!isPlainObject(value)) return `${path}: expected an object`;
    for (const [key, item] of Object.entries(value)) {
      const problem = shapeProblem(shape.recordOf, item, `${path}.${key}`);
      if (problem !== null) return problem;
    }
    return null;
  }
  return objectShapeProblem(shape.object, value, path);
}

/**
 * Like `shapeProblem` for an object shape: also refuses keys the shape does not list, unless
 * `open` (a signed record's body holds more fields than the domain reads).
 */
export function objectShapeProblem(
  shape: ObjectShape,
  value: unknown,
  path: string,
  open = false,
): string | null {
  if (!isPlainObject(value)) return `${path}: expected an object`;
  if (!open) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(shape, key)) return `${path}.${key}: unexpected field`;
    }
  }
  for (const [key, fieldShape] of Object.entries(shape)) {
    if (!Object.hasOwn(value, key)) return `${path}.${key}: missing`;
    const problem = shapeProblem(fieldShape, value[key], `${path}.${key}`);
    if (problem !== null) return problem;
  }
  return null;
}
