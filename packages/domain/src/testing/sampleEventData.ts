import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { eventDataSchemas } from '../schemas/eventSchemas.js';
import type { EventData, EventType } from '../schemas/eventSchemas.js';

// Tried in order for each field: the first value its schema accepts is taken (null first, so a
// nullable field is null; a 64-byte array fits both bytes and hashes).
const candidates: readonly unknown[] = [
  null,
  'x1',
  1,
  new Uint8Array(64).fill(1),
  '2026-11-28T03:00:00.000Z',
  'a'.repeat(64),
  [],
  {},
];

function sample(schema: TSchema): unknown {
  const described = schema as {
    readonly properties?: Readonly<Record<string, TSchema>>;
    readonly enum?: readonly unknown[];
    readonly const?: unknown;
  };
  if (described.properties !== undefined) {
    return Object.fromEntries(
      Object.entries(described.properties).map(([key, field]) => [key, sample(field)]),
    );
  }
  if (described.enum !== undefined) return described.enum[0];
  if (described.const !== undefined) return described.const;
  const fits = candidates.find((candidate) => Value.Check(schema, candidate));
  if (fits === undefined) throw new Error('no sample value fits the schema');
  // Fresh bytes each time, so a caller may change them.
  return fits instanceof Uint8Array ? fits.slice() : fits;
}

/**
 * Data of event type `type` that fits its schema, with placeholder values (ids `x1`, integers
 * 1, hashes of 64 one-bytes, null where allowed): for tests that need a well-formed event and
 * set only the fields they are about.
 */
export const sampleEventData = <T extends EventType>(type: T): EventData<T> =>
  sample(eventDataSchemas[type]) as EventData<T>;
