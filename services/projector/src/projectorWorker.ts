/**
 * The projector's worker thread (embedded mode): its own connections to the event log and to
 * the read-model file, so the projector's disk work never stalls the API's event loop. Started
 * and supervised by `startProjectorWorker`; reports its status with `postMessage`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { runProjector } from './runProjector.js';
import type { ProjectorWorkerData, WorkerMessage } from './worker.js';

const data = workerData as ProjectorWorkerData;
const port = parentPort;
if (port === null) throw new Error('projectorWorker runs only as a worker thread');
const post = (message: WorkerMessage): void => port.postMessage(message);

const controller = new AbortController();
port.on('message', (message: { type: string }) => {
  if (message.type === 'stop') controller.abort();
});

const eventStore = await openSqliteEventStore({ path: data.eventStorePath });
const readModel = await openSqliteReadModelStore({ path: data.readModelPath });
try {
  await runProjector({
    eventStore,
    readModel,
    signal: controller.signal,
    ...(data.batchSize === undefined ? {} : { batchSize: data.batchSize }),
    onStatus: (status) => post({ type: 'status', status }),
  });
} catch (error) {
  const e = error as { message?: string; code?: string };
  post({ type: 'failed', message: String(e.message ?? error), code: e.code ?? null });
  process.exitCode = 1;
} finally {
  await readModel.close();
  await eventStore.close();
  port.close();
}
