import { createServer } from 'node:net';
import {
  AccessDeniedError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import { ValidationError } from '@ratsfach/kernel';
import t, { type Test as TapTest } from 'tap';
import { validateAppend } from '../src/shared/appendValidation.js';
import { chainEvents } from '../src/shared/chainEvents.js';
import { ChainVerifier } from '../src/shared/chainVerifier.js';
import {
  ConcurrencyError,
  EventStoreErrorCode,
  EventTooLargeError,
  StoreIntegrityError,
  StoreUnavailableError,
} from '../src/errors.js';
import { defaultLimits, type RecordedEvent } from '../src/eventStore.js';
import { ANY, NO_STREAM } from '../src/expectedRevision.js';
import {
  decodeKurrentEnvelope,
  encodeKurrentEnvelope,
  KURRENT_ENVELOPE_OVERHEAD,
} from '../src/kurrent/kurrentEnvelope.js';
import {
  KurrentAppendTooLargeError,
  KurrentConnectionStringError,
  toStoreError,
} from '../src/kurrent/kurrentErrors.js';
import { fromKurrentRecord, openKurrentEventStore } from '../src/kurrent/kurrentEventStore.js';
import {
  fromGlobalPosition,
  isSystemEvent,
  toGlobalPosition,
} from '../src/kurrent/kurrentPosition.js';
import { runKurrentContract } from './kurrentContract.js';

/** Awaits an action and returns what it threw (tap matches thrown values by class or pattern only). */
const thrown = async (action: Promise<unknown> | (() => unknown)): Promise<unknown> => {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    return error;
  }
  return undefined;
};

/** Asserts a typed error: its class, its stable code and, when given, what its hint names. */
const expectStoreError = async (
  t: TapTest,
  action: Promise<unknown> | (() => unknown),
  errorClass: abstract new (...args: never[]) => Error,
  code: string,
  hint?: RegExp,
  what?: string,
): Promise<void> => {
  const error = await thrown(action);
  t.type(error, errorClass, `${what ?? 'throws'} ${errorClass.name}`);
  t.equal(
    (error as { code?: unknown } | undefined)?.code,
    code,
    `${what ?? 'error'} has code ${code}`,
  );
  if (hint !== undefined)
    t.match((error as { hint?: unknown } | undefined)?.hint, hint, `${what ?? 'hint'} names it`);
};

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const hashOf = (fill: number): Uint8Array => new Uint8Array(64).fill(fill);

/** A port on 127.0.0.1 that nothing listens on: bound once by us, then released. */
const closedPort = async (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/**
 * What the client yields for a stored event, built from the adapter's own chain and envelope:
 * the client's record shape is the seam under test here, not the client.
 */
const storedRecords = (stream: string, metadata: Uint8Array[]) => {
  const validated = validateAppend(
    stream,
    metadata.map((m, i) => ({ type: 'DocumentCreated.v1', data: bytes(i, 1, 2), metadata: m })),
    NO_STREAM,
    { commandId: 'cmd-1' },
    defaultLimits,
  );
  return chainEvents(validated, null).map((event, index) => ({
    streamId: stream,
    id: event.eventId.toUpperCase(),
    isJson: false as const,
    revision: event.revision,
    type: event.type,
    created: new Date(0),
    data: Buffer.from(event.data),
    metadata: encodeKurrentEnvelope({
      prevHash: event.prevHash,
      hash: event.hash,
      metadata: event.metadata,
    }),
    position: { commit: 1000n + BigInt(index) * 100n, prepare: 1000n + BigInt(index) * 100n },
  }));
};

t.test(
  'the envelope gives back the caller metadata, prevHash and hash byte for byte',
  async (t) => {
    for (const metadata of [
      new Uint8Array(0),
      bytes(0x7b, 0x7d),
      new Uint8Array(70_000).fill(0xa5),
    ]) {
      const encoded = encodeKurrentEnvelope({ prevHash: hashOf(1), hash: hashOf(2), metadata });
      t.equal(encoded.length, KURRENT_ENVELOPE_OVERHEAD + metadata.length);
      const decoded = decodeKurrentEnvelope(Buffer.from(encoded));
      t.same(decoded.prevHash, hashOf(1));
      t.same(decoded.hash, hashOf(2));
      t.same(decoded.metadata, metadata);
      t.equal(
        Object.getPrototypeOf(decoded.metadata),
        Uint8Array.prototype,
        'a plain Uint8Array, not a Buffer',
      );
    }
  },
);

t.test('the envelope never parses as JSON, so the client always returns it as bytes', async (t) => {
  // The client runs JSON.parse over every metadata blob it reads (convertRustEvent.js).
  const encoded = encodeKurrentEnvelope({
    prevHash: hashOf(0),
    hash: hashOf(0),
    metadata: bytes(0x31),
  });
  t.equal(encoded[0], 0);
  t.throws(() => JSON.parse(Buffer.from(encoded).toString('utf8')), SyntaxError);
});

t.test('a tampered or foreign envelope is refused with StoreIntegrityError', async (t) => {
  const good = encodeKurrentEnvelope({
    prevHash: hashOf(3),
    hash: hashOf(4),
    metadata: bytes(9, 9, 9),
  });
  const wrongMagic = good.slice();
  wrongMagic[1] = 0x52;
  const longer = good.slice();
  longer[135] = 4; // declares one byte more than it carries
  const cases: Array<[string, unknown]> = [
    ['wrong magic', wrongMagic],
    ['truncated header', good.subarray(0, KURRENT_ENVELOPE_OVERHEAD - 1)],
    ['truncated metadata', good.subarray(0, good.length - 1)],
    ['trailing byte', Uint8Array.from([...good, 0])],
    ['length field altered', longer],
    ['JSON metadata the client parsed into an object', { type: 'x' }],
    ['no metadata', undefined],
  ];
  for (const [name, stored] of cases) {
    await expectStoreError(
      t,
      () => decodeKurrentEnvelope(stored),
      StoreIntegrityError,
      EventStoreErrorCode.integrity,
      /verify/,
      name,
    );
  }
});

t.test('a stored record maps to a RecordedEvent that passes the chain check', async (t) => {
  const records = storedRecords('document-t1-d1', [bytes(1), bytes(2, 2)]);
  const verifier = new ChainVerifier();
  const events = records.map((record) => fromKurrentRecord(record));
  for (const event of events) t.equal(verifier.check(event), null);
  const [first, second] = events as [RecordedEvent, RecordedEvent];
  t.equal(first.stream, 'document-t1-d1');
  t.equal(second.revision, 1n);
  t.equal(second.globalPosition, 1100n);
  t.equal(first.eventId, first.eventId.toLowerCase(), 'ids compare in lower case');
  t.same(second.metadata, bytes(2, 2));
  t.same(second.data, bytes(1, 1, 2));
  t.same(second.prevHash, first.hash);
});

t.test(
  'a changed byte of the caller metadata inside a valid envelope fails the chain check',
  async (t) => {
    const [record] = storedRecords('document-t1-d1', [bytes(1, 2, 3)]);
    if (record === undefined) throw new Error('no record');
    const tampered = record.metadata.slice();
    const lastIndex = tampered.length - 1;
    tampered[lastIndex] = (tampered[lastIndex] ?? 0) ^ 0xff;
    const event = fromKurrentRecord({ ...record, metadata: tampered });
    const problem = new ChainVerifier().check(event);
    t.equal(problem?.reason, 'hash_mismatch');
    t.equal(problem?.revision, 0n);
  },
);

t.test('a JSON event in a stream is refused as undecodable', async (t) => {
  const [record] = storedRecords('document-t1-d1', [bytes(1)]);
  if (record === undefined) throw new Error('no record');
  t.throws(
    () => fromKurrentRecord({ ...record, isJson: true, data: { a: 1 } } as never),
    StoreIntegrityError,
  );
});

t.test('global positions are commit positions; unknown ones are refused', async (t) => {
  t.equal(toGlobalPosition({ commit: 4242n, prepare: 4242n }, 'x'), 4242n);
  t.throws(() => toGlobalPosition(undefined, 'x'), StoreUnavailableError);
  t.throws(
    () => toGlobalPosition({ commit: 0xffff_ffff_ffff_ffffn, prepare: 0n }, 'x'),
    StoreUnavailableError,
  );
  t.equal(fromGlobalPosition(undefined), 'start');
  t.equal(fromGlobalPosition(0n), 'start');
  t.same(fromGlobalPosition(4242n), { commit: 4242n, prepare: 4242n });
});

t.test('system streams and types are not part of the log', async (t) => {
  t.equal(isSystemEvent('$settings', 'x'), true);
  t.equal(isSystemEvent('$$document-t1-d1', '$metadata'), true);
  t.equal(isSystemEvent('document-t1-d1', '$>'), true);
  t.equal(isSystemEvent('document-t1-d1', 'DocumentCreated.v1'), false);
});

t.test("the client's errors map to the store's typed errors", async (t) => {
  const context = { operation: 'append', stream: 'document-t1-d1', expected: 'revision 3' };

  const conflict = toStoreError(
    new WrongExpectedVersionError(undefined, {
      streamName: 'document-t1-d1',
      expected: 3n,
      current: 5n,
    }),
    context,
  );
  t.ok(conflict instanceof ConcurrencyError);
  t.equal(conflict.code, EventStoreErrorCode.concurrency);
  t.equal((conflict as ConcurrencyError).actual, 5n);
  t.equal((conflict as ConcurrencyError).expected, 'revision 3');

  const noStream = toStoreError(
    new WrongExpectedVersionError(undefined, {
      streamName: 'document-t1-d1',
      expected: 3n,
      current: 'no_stream',
    }),
    context,
  );
  t.equal((noStream as ConcurrencyError).actual, null);

  const tooLarge = toStoreError(MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576), context);
  t.ok(tooLarge instanceof KurrentAppendTooLargeError && tooLarge instanceof ValidationError);
  t.equal(tooLarge.code, 'RATSFACH_EVENT_STORE_KURRENTDB_APPEND_TOO_LARGE');
  t.match(tooLarge.hint, /MaxAppendSize/);

  for (const unreachable of [
    new UnavailableError(),
    new DeadlineExceededError(),
    Object.assign(new Error('UNAVAILABLE: No connection established'), { code: 14 }),
  ]) {
    const mapped = toStoreError(unreachable, context);
    t.ok(mapped instanceof StoreUnavailableError);
    t.equal(mapped.code, EventStoreErrorCode.unavailable);
    t.match(mapped.hint, /KURRENTDB_URL/);
    t.equal(mapped.cause, unreachable, 'keeps the client error as cause');
  }

  const denied = toStoreError(new AccessDeniedError(), context);
  t.ok(denied instanceof StoreUnavailableError);
  t.match(denied.hint, /password in KURRENTDB_URL/);

  const deleted = toStoreError(StreamDeletedError.fromStreamName('document-t1-d1'), context);
  t.ok(deleted instanceof StoreIntegrityError);
  t.equal(deleted.code, EventStoreErrorCode.integrity);

  const ours = new ConcurrencyError('document-t1-d1', 'no_stream', 0n);
  t.equal(toStoreError(ours, context), ours, 'ratsfach errors pass through unchanged');
});

t.test(
  'a connection string the client cannot parse is refused with a hint naming KURRENTDB_URL',
  async (t) => {
    await expectStoreError(
      t,
      openKurrentEventStore({ connectionString: 'http://127.0.0.1:2113' }),
      KurrentConnectionStringError,
      'RATSFACH_EVENT_STORE_KURRENTDB_URL_INVALID',
      /KURRENTDB_URL/,
    );
  },
);

t.test('a server that is not there gives StoreUnavailableError naming KURRENTDB_URL', async (t) => {
  const port = await closedPort();
  const connectionString = `kurrentdb://127.0.0.1:${port}?tls=false`;
  const unavailable = (action: Promise<unknown> | (() => unknown), what: string) =>
    expectStoreError(
      t,
      action,
      StoreUnavailableError,
      EventStoreErrorCode.unavailable,
      /KURRENTDB_URL/,
      what,
    );

  await unavailable(openKurrentEventStore({ connectionString, deadlineMs: 2_000 }), 'open probes');

  const store = await openKurrentEventStore({ connectionString, deadlineMs: 2_000, probe: false });
  t.teardown(() => store.close());
  const event = { type: 'DocumentCreated.v1', data: bytes(1), metadata: bytes() };
  await unavailable(store.append('document-t1-d1', [event], ANY, { commandId: 'c1' }), 'append');
  await unavailable(store.streamHead('document-t1-d1'), 'streamHead');
  await unavailable(async () => {
    for await (const _ of store.readStream('document-t1-d1')) break;
  }, 'readStream');
  await unavailable(async () => {
    for await (const _ of store.readAll()) break;
  }, 'readAll');
  await unavailable(async () => {
    for await (const _ of store.subscribeToAll()) break;
  }, 'subscribeToAll');
  await unavailable(store.verify(), 'verify');
});

t.test('bad input is refused before anything reaches the server', async (t) => {
  const port = await closedPort();
  const store = await openKurrentEventStore({
    connectionString: `kurrentdb://127.0.0.1:${port}?tls=false`,
    limits: { maxEventBytes: 64 },
    probe: false,
  });
  t.teardown(() => store.close());
  const event = { type: 'DocumentCreated.v1', data: bytes(1), metadata: bytes() };
  await t.rejects(store.append('document-T1-d1', [event], ANY, { commandId: 'c1' }), {
    code: 'RATSFACH_STREAM_NAME_INVALID',
  });
  await t.rejects(
    store.append('document-t1-d1', [{ ...event, data: new Uint8Array(64) }], ANY, {
      commandId: 'c1',
    }),
    EventTooLargeError,
  );
  t.throws(() => store.readStream('$settings'), { code: 'RATSFACH_STREAM_NAME_INVALID' });
});

t.test('a closed store refuses every call with StoreUnavailableError', async (t) => {
  const port = await closedPort();
  const store = await openKurrentEventStore({
    connectionString: `kurrentdb://127.0.0.1:${port}?tls=false`,
    probe: false,
  });
  await store.close();
  await store.close();
  const event = { type: 'DocumentCreated.v1', data: bytes(1), metadata: bytes() };
  await t.rejects(
    store.append('document-t1-d1', [event], ANY, { commandId: 'c1' }),
    StoreUnavailableError,
  );
  t.throws(() => store.readAll(), StoreUnavailableError);
});

runKurrentContract(t);
