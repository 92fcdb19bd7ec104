import { makeCommitteeFolders, type FolderProblem } from './committeeFolders.js';
import { sendQueue, type SendOptions, type SendReport } from './sendQueue.js';
import type { SendSpool } from './sendSpool.js';
import { syncOnce, type SyncOnceOptions, type SyncReport } from './syncOnce.js';

export interface SyncAndSendOptions extends SyncOnceOptions {
  /** The synced folder (absolute): where outgoing files are read from. */
  readonly root: string;
  readonly spool: SendSpool;
  readonly stalenessSeconds?: number;
  readonly onProgress?: SendOptions['onProgress'];
  readonly afterPart?: SendOptions['afterPart'];
  /** Pull-plan-send rounds at most (a conflict takes a second one). Default 3. */
  readonly rounds?: number;
}

export interface SyncAndSendReport extends SyncReport {
  readonly send: SendReport;
  /** Committee folders made in this sync (the first sync makes one per readable committee). */
  readonly folders: {
    readonly created: readonly string[];
    readonly failed: readonly FolderProblem[];
  };
}

/**
 * A whole sync of a device: pull, plan, send, and again while sending met conflicts.
 *
 * Pull first, because the planner decides conflicts on verified heads: a change planned on the
 * newest head goes out with the right parent and is not refused, and a local edit that meets a
 * remote one becomes a conflict copy before anything is sent. Sending then drains the queue
 * (this pass's changes and any left from an offline run). A change the service refuses because
 * another device wrote first is dropped from the queue and its document read verified in the
 * next pass, whose plan keeps the local file as a conflict copy and sends that as a new
 * document: both edits survive in one `ratsfach sync`.
 */
export const syncAndSend = async (options: SyncAndSendOptions): Promise<SyncAndSendReport> => {
  const rounds = options.rounds ?? 3;
  const folders = { created: [] as string[], failed: [] as FolderProblem[] };
  const makeFolders = async (report: SyncReport) => {
    const made = await makeCommitteeFolders(
      options.root,
      options.state,
      report.readable,
      report.lost,
    );
    folders.created.push(...made.created);
    folders.failed.push(...made.failed);
  };
  let pulled = await syncOnce(options);
  await makeFolders(pulled);
  const totals = { fetched: pulled.fetched, applied: pulled.applied, queued: pulled.queued };
  const failed = [...pulled.failed];
  const send = (): Promise<SendReport> =>
    sendQueue({
      target: options.fetch,
      chains: options.chains,
      device: options.device,
      state: options.state,
      root: options.root,
      spool: options.spool,
      now: () => options.now,
      ...(options.stalenessSeconds === undefined
        ? {}
        : { stalenessSeconds: options.stalenessSeconds }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      ...(options.afterPart === undefined ? {} : { afterPart: options.afterPart }),
    });
  let sent = await send();
  const all = { ...sent, conflicts: [...sent.conflicts], refused: [...sent.refused] };
  for (let round = 1; round < rounds && sent.conflicts.length > 0 && !sent.offline; round += 1) {
    pulled = await syncOnce({ ...options, recheck: sent.conflicts });
    await makeFolders(pulled);
    totals.fetched += pulled.fetched;
    totals.applied += pulled.applied;
    totals.queued += pulled.queued;
    failed.push(...pulled.failed);
    sent = await send();
    all.sent += sent.sent;
    all.superseded += sent.superseded;
    all.conflicts.push(...sent.conflicts);
    all.refused.push(...sent.refused);
    all.failed = sent.failed;
    all.waiting = sent.waiting;
    all.offline = sent.offline;
  }
  return { ...pulled, ...totals, failed, send: all, folders };
};
