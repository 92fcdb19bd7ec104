import type { Test } from 'tap';

/** Asserts that `f` throws an instance of `cls` carrying `code`. */
export const expectError = (
  t: Test,
  f: () => unknown,
  cls: abstract new (...args: never[]) => Error,
  code: string,
): void => {
  const err = t.throws(f, cls as never) as unknown as { code?: string } | undefined;
  t.equal(err?.code, code, `error code ${code}`);
};
