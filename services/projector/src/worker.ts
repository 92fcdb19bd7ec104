import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ProjectorStatus } from './runProjector.js';

/** What the worker thread is started with. */
export interface ProjectorWorkerData {
  readonly eventStorePath: string;
  readonly readModelPath: string;
  readonly batchSize?: number;
}

/** What the worker thread reports. */
export type WorkerMessage =
  | { readonly type: 'status'; readonly status: ProjectorStatus }
  | { readonly type: 'failed'; readonly message: string; readonly code: string | null };

export interface ProjectorWorkerOptions extends ProjectorWorkerData {
  readonly logger?: Logger;
  /** First delay before a restart after the worker exits (ms); doubles up to 30 s. Default 500. */
  readonly restartDelayMs?: number;
  readonly onStatus?: (status: ProjectorStatus) => void;
}

/** The supervised worker: its last status, how often it restarted, and how to stop it. */
export interface ProjectorWorkerHandle {
  status(): ProjectorStatus | null;
  restarts(): number;
  /** Asks the projector to finish its batch and stop; terminates it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const workerUrl = new URL(
  import.meta.url.endsWith('.ts') ? './projectorWorker.ts' : './projectorWorker.js',
  import.meta.url,
);

/**
 * Starts the projector in a worker thread (embedded mode) and keeps it running: when the
 * worker exits (a crash, an outage, a conflict), it is started again after a delay that grows
 * while it keeps failing and resets once a batch was applied.
 */
export function startProjectorWorker(options: ProjectorWorkerOptions): ProjectorWorkerHandle {
  const { logger } = options;
  const baseDelay = options.restartDelayMs ?? 500;
  const data: ProjectorWorkerData = {
    eventStorePath: options.eventStorePath,
    readModelPath: options.readModelPath,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  };
  let status: ProjectorStatus | null = null;
  let restarts = 0;
  let delay = baseDelay;
  let stopping = false;
  let worker: Worker | null = null;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = (): void => {
    const current = new Worker(workerUrl, { workerData: data });
    worker = current;
    current.on('message', (message: WorkerMessage) => {
      if (message.type === 'status') {
        status = message.status;
        delay = baseDelay;
        options.onStatus?.(message.status);
      } else {
        logger?.error({ code: message.code }, `projector failed: ${message.message}`);
      }
    });
    current.on('error', (error) => logger?.error({ err: error }, 'projector worker crashed'));
    exited = new Promise((resolve) => {
      current.once('exit', (code) => {
        worker = null;
        resolve();
        if (stopping) return;
        restarts++;
        logger?.warn({ code, restartInMs: delay }, 'projector worker exited; restarting');
        restartTimer = setTimeout(start, delay);
        delay = Math.min(delay * 2, 30_000);
      });
    });
  };
  start();

  return {
    status: () => status,
    restarts: () => restarts,
    async stop(timeoutMs = 10_000) {
      stopping = true;
      clearTimeout(restartTimer);
      const current = worker;
      if (current === null) return;
      current.postMessage({ type: 'stop' });
      const timeout = setTimeout(() => void current.terminate(), timeoutMs);
      await exited;
      clearTimeout(timeout);
    },
  };
}
