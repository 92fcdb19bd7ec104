import t from 'tap';
import { NO_STREAM, StoreUnavailableError, type RecordedEvent } from '../src/index.js';
import {
  MemoryEventLog,
  openMemoryEventStore,
  type MemoryEventStore,
} from '../src/memory/index.js';
import { runEventStoreContract, type ContractBackend } from './contract.js';

t.test('the memory event store passes the event-store contract', async (t) => {
  runEventStoreContract(t, {
    durable: false,
    async open(options = {}): Promise<ContractBackend> {
      const log = new MemoryEventLog();
      const open = () =>
        openMemoryEventStore({ log, ...(options.limits ? { limits: options.limits } : {}) });
      const opened: MemoryEventStore[] = [await open()];
      return {
        store: opened[0] as MemoryEventStore,
        tenant: 't1',
        async reopen() {
          const again = await open();
          opened.push(again);
          return again;
        },
        async corrupt(stream, revision) {
          const stored = log.stream(stream)[Number(revision)];
          if (stored === undefined) throw new Error(`no event ${stream}@${revision} to corrupt`);
          (stored.data as Uint8Array)[0] = ((stored.data as Uint8Array)[0] ?? 0) ^ 0x01;
        },
        async destroy() {
          for (const store of opened) await store.close();
        },
      };
    },
  });
});

t.test('keeps its own copy of the bytes: neither writer nor reader can change them', async (t) => {
  const store = await openMemoryEventStore();
  t.teardown(() => store.close());
  const data = new Uint8Array([1, 2, 3]);
  await store.append('document-t1-d1', [{ type: 'A.v1', data, metadata: data }], NO_STREAM, {
    commandId: 'c1',
  });
  data[0] = 9;
  for await (const event of store.readStream('document-t1-d1')) (event.data as Uint8Array)[1] = 9;
  let stored: RecordedEvent | undefined;
  for await (const event of store.readAll()) stored ??= event;
  t.same([...(stored?.data ?? [])], [1, 2, 3]);
  t.same([...(stored?.metadata ?? [])], [1, 2, 3]);
  t.equal((await store.verify()).firstProblem, null);
});

t.test('a store closed on a shared log leaves the other stores on it working', async (t) => {
  const first = await openMemoryEventStore();
  const second = await openMemoryEventStore({ log: first.log });
  t.teardown(() => second.close());
  const subscription = second.subscribeToAll();
  const iterator = subscription[Symbol.asyncIterator]();
  const next = iterator.next();
  await first.append(
    'document-t1-d1',
    [{ type: 'A.v1', data: new Uint8Array(), metadata: new Uint8Array() }],
    NO_STREAM,
    { commandId: 'c1' },
  );
  t.equal((await next).value?.revision, 0n, "the other store's subscription saw the append");
  await first.close();
  await t.rejects(first.streamHead('document-t1-d1'), StoreUnavailableError);
  t.equal((await second.streamHead('document-t1-d1'))?.revision, 0n);
  await subscription.close();
});
