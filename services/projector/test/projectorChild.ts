/**
 * A projector process for the SIGKILL test: projects the SQLite log into a SQLite read model,
 * prints `batch <checkpoint>` after every batch and exits once the checkpoint reaches the
 * target. Argument: JSON {eventsPath, readModelPath, batchSize, target}.
 */
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { runProjector } from '../src/runProjector.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as {
  eventsPath: string;
  readModelPath: string;
  batchSize: number;
  target: string;
};
const target = BigInt(spec.target);
const eventStore = await openSqliteEventStore({ path: spec.eventsPath });
const readModel = await openSqliteReadModelStore({ path: spec.readModelPath });
const controller = new AbortController();
await runProjector({
  eventStore,
  readModel,
  batchSize: spec.batchSize,
  signal: controller.signal,
  onStatus: (status) => {
    process.stdout.write(`batch ${String(status.checkpoint)}\n`);
    if (status.checkpoint !== null && status.checkpoint >= target) controller.abort();
  },
});
await readModel.close();
await eventStore.close();
process.stdout.write('done\n');
