import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type tap from 'tap';
import { ConflictError, ValidationError, type Decider } from '@ratsfach/kernel';
import { CommandHandler, type EventSerializer } from './commandHandler.js';
import { ConcurrencyError, InvalidCommandIdError } from './errors.js';
import { ANY } from './expectedRevision.js';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite/sqliteEventStore.js';

type CounterCommand =
  | { type: 'Increment'; by: number; metadata: { commandId: string } }
  | { type: 'Noop'; metadata: { commandId: string } };
type CounterEvent = { type: 'Incremented'; by: number };
type CounterState = { count: number };
type CounterContext = { limit: number };

class LimitExceeded extends ConflictError {
  constructor() {
    super('RATSFACH_TEST_LIMIT', 'over the limit');
  }
}

const counter: Decider<CounterCommand, CounterEvent, CounterState, CounterContext> = {
  initialState: () => ({ count: 0 }),
  evolve: (state, event) => ({ count: state.count + event.by }),
  decide(command, state, context) {
    if (command.type === 'Noop') return [];
    if (state.count + command.by > context.limit) throw new LimitExceeded();
    return [{ type: 'Incremented', by: command.by }];
  },
};

const json: EventSerializer<CounterEvent> = {
  encode: (event) => ({
    type: 'Incremented.v1',
    data: new TextEncoder().encode(JSON.stringify({ by: event.by })),
    metadata: new Uint8Array(),
  }),
  decode: (recorded) => ({
    type: 'Incremented',
    by: (JSON.parse(new TextDecoder().decode(recorded.data)) as { by: number }).by,
  }),
};

const increment = (commandId: string, by = 1): CounterCommand => ({
  type: 'Increment',
  by,
  metadata: { commandId },
});
const stream = 'document-t1-counter';

async function openStore(
  t: Parameters<Parameters<typeof tap.test>[0]>[0],
): Promise<SqliteEventStore> {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-handler-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

t.test('creates the stream, then appends at the exact revision it folded', async (t) => {
  const store = await openStore(t);
  const handler = new CommandHandler({
    store,
    decider: counter,
    serializer: json,
    loadContext: () => ({ limit: 10 }),
  });
  const first = await handler.handle(stream, increment('c1', 2));
  t.equal(first.append?.nextExpectedRevision, 0n);
  t.same(first.state, { count: 2 });
  t.equal(first.replayed, false);
  const second = await handler.handle(stream, increment('c2', 3));
  t.equal(second.append?.nextExpectedRevision, 1n);
  t.same(second.state, { count: 5 });
  t.equal(second.attempts, 1);
});

t.test(
  'passes the loaded context to decide and lets its refusal through, writing nothing',
  async (t) => {
    const store = await openStore(t);
    const handler = new CommandHandler({
      store,
      decider: counter,
      serializer: json,
      loadContext: () => ({ limit: 3 }),
    });
    await handler.handle(stream, increment('c1', 3));
    await t.rejects(handler.handle(stream, increment('c2', 1)), LimitExceeded);
    t.equal((await store.streamHead(stream))?.revision, 0n);
  },
);

t.test('decides again against the new state when a concurrent writer wins the race', async (t) => {
  const store = await openStore(t);
  let calls = 0;
  const handler = new CommandHandler({
    store,
    decider: counter,
    serializer: json,
    async loadContext() {
      calls += 1;
      if (calls === 1)
        await store.append(stream, [json.encode({ type: 'Incremented', by: 10 })], ANY, {
          commandId: 'rival',
        });
      return { limit: 100 };
    },
  });
  const result = await handler.handle(stream, increment('mine', 1));
  t.equal(result.attempts, 2);
  t.same(result.state, { count: 11 }, 'the retry folded the rival event');
  t.equal(result.append?.nextExpectedRevision, 1n);
});

t.test('rethrows the ConcurrencyError after the bounded number of retries', async (t) => {
  const store = await openStore(t);
  let calls = 0;
  const handler = new CommandHandler({
    store,
    decider: counter,
    serializer: json,
    maxRetries: 2,
    async loadContext() {
      calls += 1;
      await store.append(stream, [json.encode({ type: 'Incremented', by: 1 })], ANY, {
        commandId: `rival-${calls}`,
      });
      return { limit: 100 };
    },
  });
  const error = await handler.handle(stream, increment('mine')).catch((e: unknown) => e);
  t.type(error, ConcurrencyError);
  t.match(error, { code: 'RATSFACH_EVENT_STORE_CONCURRENCY' });
  t.equal(calls, 3, 'one attempt plus two retries');
});

t.test(
  'returns the stored result for a command already appended without deciding again',
  async (t) => {
    const store = await openStore(t);
    let decisions = 0;
    const counting = {
      ...counter,
      decide: (...args: Parameters<typeof counter.decide>) => (
        decisions++,
        counter.decide(...args)
      ),
    };
    const handler = new CommandHandler({
      store,
      decider: counting,
      serializer: json,
      loadContext: () => ({ limit: 5 }),
    });
    const first = await handler.handle(stream, increment('c1', 5));
    await handler.handle('document-t1-other', increment('c9', 1));
    const again = await handler.handle(stream, increment('c1', 5));
    t.equal(again.replayed, true);
    t.equal(decisions, 2, 'the retry was not decided (it would be over the limit now)');
    t.same(again.events, [{ type: 'Incremented', by: 5 }]);
    t.same(again.append?.eventIds, first.append?.eventIds);
    t.equal(again.append?.lastGlobalPosition, first.append?.lastGlobalPosition);
    t.equal((await store.streamHead(stream))?.revision, 0n, 'nothing written twice');
  },
);

t.test('appends nothing when the decider decides no events', async (t) => {
  const store = await openStore(t);
  const handler = new CommandHandler({
    store,
    decider: counter,
    serializer: json,
    loadContext: () => ({ limit: 5 }),
  });
  const result = await handler.handle(stream, { type: 'Noop', metadata: { commandId: 'n' } });
  t.equal(result.append, null);
  t.equal(await store.streamHead(stream), null);
});

t.test('refuses a command without a command id and a stream name of the wrong shape', async (t) => {
  const store = await openStore(t);
  const handler = new CommandHandler({
    store,
    decider: counter,
    serializer: json,
    loadContext: () => ({ limit: 5 }),
  });
  await t.rejects(
    handler.handle(stream, { type: 'Increment', by: 1 } as CounterCommand),
    InvalidCommandIdError,
  );
  await t.rejects(handler.handle('counter', increment('x')), ValidationError);
  await t.rejects(handler.handle('counter', increment('x')), {
    code: 'RATSFACH_STREAM_NAME_INVALID',
  });
});
