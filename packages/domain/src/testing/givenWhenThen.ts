import {
  canonicalStringify,
  type CanonicalValue,
  type Decider,
  RatsfachError,
} from '@ratsfach/kernel';

/** The part of a tap `Test` the helper uses (kept structural so the domain needs no tap types). */
export interface Asserter {
  equal(found: unknown, wanted: unknown, message: string): unknown;
  ok(value: unknown, message: string): unknown;
  fail(message: string): unknown;
}

type ErrorClass = abstract new (...args: never[]) => RatsfachError;

const show = (value: unknown): string => canonicalStringify(value as CanonicalValue);

/**
 * Given/when/then for deciders: `given(decider, events).when(command, context)` then either
 * `.then(t, events)` (compared byte for byte through the canonical encoding) or
 * `.thenRefuses(t, ErrorClass, code)`.
 */
export function given<C, E, S, X>(decider: Decider<C, E, S, X>, events: readonly E[]) {
  const state = events.reduce(
    (current, event) => decider.evolve(current, event),
    decider.initialState(),
  );
  return {
    state,
    when(command: C, context: X) {
      const run = (): readonly E[] => decider.decide(command, state, context);
      return {
        /** Asserts the decision yields exactly `expected`; returns what it yielded. */
        then(t: Asserter, expected: readonly E[]): readonly E[] {
          let events: readonly E[];
          try {
            events = run();
          } catch (error) {
            const code = error instanceof RatsfachError ? error.code : String(error);
            t.fail(`expected events, the decider refused with ${code}`);
            return [];
          }
          t.equal(show(events), show(expected), 'the decision yields the expected events');
          return events;
        },
        /** Asserts the decision is refused with `errorClass` and `code`. */
        thenRefuses(t: Asserter, errorClass: ErrorClass, code: string): void {
          try {
            run();
          } catch (error) {
            t.ok(
              error instanceof errorClass,
              `refused with ${errorClass.name} (got ${(error as Error).name})`,
            );
            t.equal((error as RatsfachError).code, code, `refused with code ${code}`);
            const hint = (error as RatsfachError).hint;
            t.ok(typeof hint === 'string' && hint.length > 0, 'the refusal says what to do next');
            return;
          }
          t.fail(`expected a refusal with ${code}, the decider accepted`);
        },
      };
    },
  };
}
