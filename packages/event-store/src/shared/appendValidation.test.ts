import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import { validateAppend, validateReadAll, validateReadStream } from './appendValidation.js';
import {
  EmptyAppendError,
  EventTooLargeError,
  InvalidCommandIdError,
  InvalidEventError,
  InvalidExpectedRevisionError,
  InvalidReadOptionsError,
  TooManyEventsError,
} from '../errors.js';
import type { NewEvent } from '../eventStore.js';
import { ANY, NO_STREAM } from '../expectedRevision.js';

const limits = { maxEventBytes: 100, maxEventsPerAppend: 3 };
const event = (size = 10): NewEvent => ({
  type: 'A.v1',
  data: new Uint8Array(size - 4),
  metadata: new Uint8Array(),
});
const stream = 'committee-t1-c1';

t.test('accepts a well-formed append and derives one event id per event', async (t) => {
  const v = validateAppend(stream, [event(), event()], NO_STREAM, { commandId: 'c1' }, limits);
  t.equal(v.tenant, 't1');
  t.equal(v.eventIds.length, 2);
});

t.test('accepts an event of exactly the size limit and refuses one byte more', async (t) => {
  t.doesNotThrow(() => validateAppend(stream, [event(100)], ANY, { commandId: 'c' }, limits));
  const error = t.throws(() =>
    validateAppend(stream, [event(101)], ANY, { commandId: 'c' }, limits),
  );
  t.type(error, EventTooLargeError);
  t.match(error, {
    code: 'RATSFACH_EVENT_STORE_EVENT_TOO_LARGE',
    details: { size: 101, limit: 100 },
  });
});

t.test('refuses bad input with typed errors and stable codes', async (t) => {
  const cases: [() => unknown, new (...a: never[]) => Error, string][] = [
    [
      () => validateAppend('nonsense', [event()], ANY, { commandId: 'c' }, limits),
      ValidationError,
      'RATSFACH_STREAM_NAME_INVALID',
    ],
    [
      () => validateAppend(stream, [], ANY, { commandId: 'c' }, limits),
      EmptyAppendError,
      'RATSFACH_EVENT_STORE_EMPTY_APPEND',
    ],
    [
      () =>
        validateAppend(
          stream,
          [event(), event(), event(), event()],
          ANY,
          { commandId: 'c' },
          limits,
        ),
      TooManyEventsError,
      'RATSFACH_EVENT_STORE_TOO_MANY_EVENTS',
    ],
    [
      () => validateAppend(stream, [{ ...event(), type: '' }], ANY, { commandId: 'c' }, limits),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    ],
    [
      () =>
        validateAppend(
          stream,
          [{ ...event(), data: 'x' as unknown as Uint8Array }],
          ANY,
          { commandId: 'c' },
          limits,
        ),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    ],
    [
      () =>
        validateAppend(
          stream,
          [{ ...event(), metadata: null as unknown as Uint8Array }],
          ANY,
          { commandId: 'c' },
          limits,
        ),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    ],
    [
      () => validateAppend(stream, [null as unknown as NewEvent], ANY, { commandId: 'c' }, limits),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    ],
    [
      () => validateAppend(stream, [event()], -1n, { commandId: 'c' }, limits),
      InvalidExpectedRevisionError,
      'RATSFACH_EVENT_STORE_EXPECTED_REVISION_INVALID',
    ],
    [
      () => validateAppend(stream, [event()], 'latest' as never, { commandId: 'c' }, limits),
      InvalidExpectedRevisionError,
      'RATSFACH_EVENT_STORE_EXPECTED_REVISION_INVALID',
    ],
    [
      () => validateAppend(stream, [event()], ANY, { commandId: '' }, limits),
      InvalidCommandIdError,
      'RATSFACH_EVENT_STORE_COMMAND_ID_INVALID',
    ],
    [
      () => validateAppend(stream, [event()], ANY, {} as never, limits),
      InvalidCommandIdError,
      'RATSFACH_EVENT_STORE_COMMAND_ID_INVALID',
    ],
    [
      () => validateReadStream(stream, { maxCount: 0 }),
      InvalidReadOptionsError,
      'RATSFACH_EVENT_STORE_READ_OPTIONS_INVALID',
    ],
    [
      () => validateReadStream(stream, { fromRevision: -1n }),
      InvalidReadOptionsError,
      'RATSFACH_EVENT_STORE_READ_OPTIONS_INVALID',
    ],
    [
      () => validateReadAll({ pageSize: 0 }),
      InvalidReadOptionsError,
      'RATSFACH_EVENT_STORE_READ_OPTIONS_INVALID',
    ],
    [
      () => validateReadAll({ after: -2n }),
      InvalidReadOptionsError,
      'RATSFACH_EVENT_STORE_READ_OPTIONS_INVALID',
    ],
  ];
  for (const [run, errorClass, code] of cases) {
    const error = t.throws(run);
    t.type(error, errorClass);
    t.match(error, { code });
  }
});
