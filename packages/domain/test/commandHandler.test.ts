// Runs a real domain decider through the event store's CommandHandler on SQLite: the handler
// lives in @ratsfach/event-store, which depends on the kernel only, so the test that joins it
// to the domain's deciders and serialiser lives here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type tap from 'tap';
import { CommandHandler } from '@ratsfach/event-store';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import {
  decodeEvent,
  deliveryDecider,
  encodeEvent,
  ValidationError,
  type DeliveryEvent,
  type DomainContext,
  type RecordDelivery,
  type RecordVerifier,
} from '../src/index.js';

const openStore = async (t: Parameters<Parameters<typeof tap.test>[0]>[0]) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-handler-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
};

t.test('runs a real domain decider (deliveries) with the domain serialiser', async (t) => {
  const store = await openStore(t);
  const handler = new CommandHandler({
    store,
    decider: deliveryDecider,
    serializer: {
      encode: (event: DeliveryEvent) => encodeEvent(event),
      decode: (recorded) => decodeEvent(recorded) as DeliveryEvent,
    },
    loadContext: (): DomainContext => ({ verifier: {} as RecordVerifier, day: '20260105' }),
  });
  const command = (commandId: string, deliveredAt: string): RecordDelivery => ({
    type: 'RecordDelivery',
    data: {
      tenantId: 't1',
      committeeId: 'c1',
      documentId: 'd1',
      version: 1,
      userId: 'u1',
      deviceId: 'dev1',
      deliveredAt,
    },
    metadata: { commandId, now: '2026-01-05T10:00:00.000Z' },
  });
  const result = await handler.handle(
    'delivery-t1-20260105',
    command('del-1', '2026-01-05T09:59:00.000Z'),
  );
  t.same(result.state, { deliveries: 1 });
  const replay = await handler.handle(
    'delivery-t1-20260105',
    command('del-1', '2026-01-05T09:59:00.000Z'),
  );
  t.equal(replay.replayed, true);
  t.equal(replay.events[0]?.data.deviceId, 'dev1');
  await t.rejects(
    handler.handle('delivery-t1-20260105', command('del-2', '2026-01-06T00:00:01.000Z')),
    ValidationError,
  );
  t.equal((await store.streamHead('delivery-t1-20260105'))?.revision, 0n);
});
