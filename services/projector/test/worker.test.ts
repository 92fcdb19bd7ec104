import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { startProjectorWorker } from '../src/worker.js';
import { projectionLag } from '../src/lag.js';
import type { ProjectorStatus } from '../src/runProjector.js';
import { appendHistory, randomHistory } from './randomHistory.js';

t.test('the worker thread projects the log, restarts after failing, and reports lag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-worker-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const eventsPath = join(dir, 'events.sqlite');
  const eventStore = await openSqliteEventStore({ path: eventsPath });
  t.teardown(() => eventStore.close());
  const history = randomHistory(3, 200);
  await appendHistory(eventStore, history);
  let last = 0n;
  for await (const event of eventStore.readAll()) last = event.globalPosition;
  // The read model's directory does not exist yet: the worker fails and is restarted.
  const readModelPath = join(dir, 'later', 'read-model.sqlite');
  const statuses: ProjectorStatus[] = [];
  const worker = startProjectorWorker({
    eventStorePath: eventsPath,
    readModelPath,
    batchSize: 50,
    restartDelayMs: 50,
    onStatus: (status) => statuses.push(status),
  });
  t.teardown(() => worker.stop());
  for (let i = 0; i < 1200 && worker.restarts() < 1; i++)
    await new Promise((r) => setTimeout(r, 25));
  t.ok(worker.restarts() >= 1, 'restarted after exiting');
  t.equal(worker.status(), null, 'nothing applied while failing');
  mkdirSync(join(dir, 'later'));
  for (let i = 0; i < 1200 && worker.status()?.checkpoint !== last; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  t.equal(worker.status()?.checkpoint, last, 'caught up with the log');
  t.equal(worker.status()?.caughtUp, true);
  const readModel = await openSqliteReadModelStore({ path: readModelPath });
  t.teardown(() => readModel.close());
  t.same(await projectionLag(eventStore, readModel), {
    checkpoint: last,
    pending: 0,
    atLeast: false,
  });
  // Live: a new append reaches the read model through the worker's own connection.
  const delivery = history.find((step) => step.stream.startsWith('delivery-'));
  if (delivery === undefined) throw new Error('the history has no delivery');
  await appendHistory(eventStore, [{ ...delivery, commandId: 'live-append' }]);
  const before = last;
  for await (const event of eventStore.readAll({ after: before })) last = event.globalPosition;
  t.ok(last > before);
  t.same(
    (await projectionLag(eventStore, readModel, 1)).atLeast,
    true,
    'lag while the worker has not yet applied it',
  );
  for (let i = 0; i < 1200 && (await readModel.checkpoint()) !== last; i++)
    await new Promise((r) => setTimeout(r, 25));
  t.equal(await readModel.checkpoint(), last, 'the live append was projected');
  await worker.stop();
  t.ok(statuses.length > 1);
});
