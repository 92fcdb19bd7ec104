import type pg from 'pg';
import t from 'tap';
import type { PostgresNotifier } from './postgresNotifier.js';
import { PostgresSubscription } from './postgresSubscription.js';
import { postgresNames } from './postgresSchema.js';

// The pool and notifier stand in for a server: this tests only the subscription's own life cycle.
const row = (position: number) => ({
  global_position: String(position),
  stream: 'document-t1-d1',
  revision: String(position - 1),
  event_id: `id-${position}`,
  type: 'Noted',
  data: Buffer.from([position]),
  metadata: Buffer.alloc(0),
  hash: Buffer.alloc(32),
  prev_hash: Buffer.alloc(32),
  settled: true,
});
const pool = {
  query: async () => ({ rows: [row(1), row(2)] }),
} as unknown as pg.Pool;
const notifier = {
  generation: 0,
  ensureListening: async () => undefined,
  wait: async () => undefined,
} as unknown as PostgresNotifier;

for (const [how, leave] of [
  ['throws', () => Promise.reject(new Error('consumer failed'))],
  ['breaks out', () => Promise.resolve()],
] as const) {
  t.test(`a consumer that ${how} closes the subscription, so the store forgets it`, async (t) => {
    let closes = 0;
    const subscription = new PostgresSubscription(pool, postgresNames('public'), notifier, {
      after: 0n,
      pageSize: 10,
      pollIntervalMs: 10,
      onClose: () => {
        closes += 1;
      },
    });
    const outcome = await (async () => {
      for await (const event of subscription) {
        t.equal(event.globalPosition, 1n);
        await leave();
        break;
      }
    })().catch((e: unknown) => e);
    if (how === 'throws') t.match(outcome, { message: 'consumer failed' });
    t.equal(closes, 1, 'onClose ran once');
    t.equal(subscription.bufferedCount(), 0);
    await subscription.close();
    t.equal(closes, 1, 'a later close() does not run it again');
  });
}
