import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';

/**
 * A validator per key of `schemas`, compiled on first use: loading the domain compiles nothing,
 * and a process that never decodes a type never pays for it.
 */
export function lazyValidators<K extends string>(
  schemas: Readonly<Record<K, TSchema>>,
): (key: K) => Validator {
  const compiled = new Map<K, Validator>();
  return (key) => {
    let validator = compiled.get(key);
    if (validator === undefined) {
      validator = Compile(schemas[key]);
      compiled.set(key, validator);
    }
    return validator;
  };
}

/** The first problem `validator` finds in `value`, as `root/path: what is wrong`. */
export function firstProblem(validator: Validator, value: unknown, root: string): string {
  const [error] = validator.Errors(value);
  if (error === undefined) return `${root}: does not fit its schema`;
  const extra = (error.params as { readonly additionalProperties?: unknown } | undefined)
    ?.additionalProperties;
  const named = Array.isArray(extra) ? ` (${extra.join(', ')})` : '';
  return `${root}${error.instancePath}: ${error.message}${named}`;
}
