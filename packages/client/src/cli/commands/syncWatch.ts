import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fillPath,
  ownChains,
  pushEvents,
  pushHeartbeatMs,
  requestLoginChallenge,
} from '@ratsfach/api-contract';
import { createLoginProof, type DeviceKeys } from '@ratsfach/crypto';
import { base64urlDecode, base64urlEncode, RatsfachError } from '@ratsfach/kernel';
import { ApiClient, ApiProblemError } from '../../http/apiClient.js';
import type { DeviceSession } from '../../http/deviceLogin.js';
import { EventStream } from '../../http/eventStream.js';
import { engineFolder, type NodeFileSystem } from '../../node/nodeFileSystem.js';
import type { SqliteLocalState } from '../../node/sqliteLocalState.js';
import { watchTree } from '../../node/treeWatcher.js';
import type { SyncAndSendReport } from '../../sync/sendSync.js';
import {
  judgeRevocation,
  wipeSyncedPlaintext,
  type RevocationVerdict,
} from '../../sync/watchRevocation.js';
import { watchSync, type WatchNotice, type WatchPass } from '../../sync/watchSync.js';
import { syncStateFile } from '../../sync/syncStateFile.js';
import type { CommandRun } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { profileKeysPath, type Profile } from '../profile.js';

/** What `ratsfach sync --watch` is given by the one-pass command around it. */
export interface SyncWatchSetup {
  readonly run: CommandRun;
  readonly profile: Profile;
  readonly keys: DeviceKeys;
  readonly rootPin: Uint8Array;
  readonly folder: string;
  readonly fs: NodeFileSystem;
  readonly state: SqliteLocalState;
  /** The current session (its token is refreshed by `relogin`). */
  readonly session: () => DeviceSession;
  /** Logs in again (after a 401); throws the service's problem when refused. */
  readonly relogin: () => Promise<void>;
  /** One sync pass with the current session. */
  readonly pass: () => Promise<SyncAndSendReport>;
  /** A pass at least this often while the event stream is down (ms). */
  readonly pollMs: number;
  /** A pass at least this often whatever happens (ms). */
  readonly safetyMs: number;
}

const clock = (date: Date): string => date.toISOString().slice(11, 19);

const passLine = (pass: WatchPass<SyncAndSendReport>, at: Date): string => {
  const why = pass.reasons.join(', ');
  if (!pass.ok) return `${clock(at)} pass (${why}) failed: ${pass.error.message}`;
  const r = pass.report;
  const problems =
    r.failed.length + r.unreadable.length + r.send.failed.length + r.send.refused.length;
  return (
    `${clock(at)} synced (${why}): ${r.fetched} fetched, ${r.applied} applied, ${r.send.sent} sent, ${r.send.waiting} waiting` +
    (problems > 0 ? `, ${problems} not done` : '') +
    (r.send.conflicts.length > 0 ? `, ${r.send.conflicts.length} kept as conflict copies` : '') +
    (r.send.offline ? ', the service could not be reached' : '') +
    (r.held.length > 0 ? ', deletions held (run once with --confirm-deletions)' : '')
  );
};

/** The typed error's hint (what to do), if it has one. */
const hintOf = (error: Error): string | undefined =>
  error instanceof RatsfachError ? error.hint : undefined;

/** The status line of a notice (exported for its test). */
export const noticeLine = (notice: WatchNotice): string => {
  switch (notice.kind) {
    case 'live':
      return 'live: the server pushes changes';
    case 'polling':
      return `push unavailable (${notice.error.message}); polling, retrying push in ${Math.round(notice.retryInMs / 1000)} s`;
    case 'streamRefused':
      return `the server refused the event stream (${notice.error.message}); polling`;
    case 'watcherFailed':
      // Say which setting to raise (out of inotify watches): the scan is slower than a watcher.
      return `${notice.error.message}: ${hintOf(notice.error) ?? 'local changes are found by the periodic pass'}`;
    case 'refusalNotProven':
      return `the server refuses this device (${notice.error.message}) but showed no verified revocation: nothing was wiped`;
  }
};

/** Logs in again (when the pass failed with 401) and retries the pass once. */
const passWithRelogin = async (setup: SyncWatchSetup): Promise<SyncAndSendReport> => {
  try {
    return await setup.pass();
  } catch (error) {
    if (!(error instanceof ApiProblemError) || error.status !== 401) throw error;
    await setup.relogin();
    return setup.pass();
  }
};

/**
 * Asks the service for this device's own chains with a fresh login proof and judges them from
 * the pinned root. A failure to get them proves nothing.
 */
const checkRevocation = async (setup: SyncWatchSetup): Promise<RevocationVerdict> => {
  const { profile, keys } = setup;
  const api = new ApiClient({ baseUrl: profile.serverUrl });
  const params = { tenantId: profile.tenantId };
  try {
    const challenge = await api.call(requestLoginChallenge, {
      params,
      body: { deviceId: profile.deviceId },
    });
    const proof = createLoginProof(
      {
        tenantId: profile.tenantId,
        deviceId: profile.deviceId,
        challenge: base64urlDecode(challenge.challenge),
      },
      keys.signing,
    );
    const chains = await api.call(ownChains, {
      params,
      body: {
        deviceId: profile.deviceId,
        challengeId: challenge.challengeId,
        proof: base64urlEncode(proof),
      },
    });
    return judgeRevocation(
      {
        tenant: chains.tenant.map((r) => base64urlDecode(r.record)),
        user: chains.user.map((r) => base64urlDecode(r.record)),
        signers: Object.fromEntries(
          Object.entries(chains.signers).map(([userId, records]) => [
            userId,
            records.map((r) => base64urlDecode(r.record)),
          ]),
        ),
      },
      { rootPin: setup.rootPin, userId: profile.userId, signingKey: keys.signing.publicKey },
    );
  } catch (error) {
    return {
      revoked: false,
      why: `this device's chains could not be read: ${(error as Error).message}`,
    };
  }
};

/** Overwrites a file with zeros before deleting it; a missing file is no error. */
const shred = async (path: string): Promise<void> => {
  try {
    const handle = await open(path, 'r+');
    try {
      const { size } = await handle.stat();
      await handle.write(new Uint8Array(size), 0, size, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(path, { force: true });
};

/**
 * `ratsfach sync <dir> --watch`: keeps the folder in sync until SIGINT/SIGTERM (exit 0 after
 * the running pass). One status line per pass on stderr, JSON lines on stdout with `--json`.
 * A device the service refuses reads its own chains and wipes only on a revocation verified
 * from the pinned root: its synced plaintext, its sync state and its keys (exit 4).
 */
export const runSyncWatch = async (setup: SyncWatchSetup): Promise<ExitCode> => {
  const { run, profile, state } = setup;
  const { output, context } = run;
  // SIGINT/SIGTERM: the running pass finishes, then the watch ends with 0.
  const shutdown = new AbortController();
  const unregister = context.onStop?.(() => shutdown.abort()) ?? (() => undefined);
  const refusedWhy = new Map<Error, string>();
  output.event(
    { event: 'watching', folder: setup.folder },
    `watching ${setup.folder} (Ctrl-C to stop)`,
  );
  const end = await watchSync<SyncAndSendReport, RevocationVerdict & { revoked: true }>({
    pass: () => passWithRelogin(setup),
    onPass: (pass) => {
      if (pass.ok) state.setSetting('lastSync', context.now().toISOString());
      const { reasons, ms } = pass;
      output.event(
        pass.ok
          ? {
              event: 'pass',
              ok: true,
              reasons,
              ms,
              fetched: pass.report.fetched,
              applied: pass.report.applied,
              queued: pass.report.queued,
              sent: pass.report.send.sent,
              waiting: pass.report.send.waiting,
              offline: pass.report.send.offline,
              conflicts: pass.report.send.conflicts,
              notSent: [...pass.report.send.failed, ...pass.report.send.refused],
              failed: pass.report.failed,
              unreadable: pass.report.unreadable,
              held: pass.report.held,
            }
          : { event: 'pass', ok: false, reasons, ms, error: pass.error.message },
        passLine(pass, context.now()),
      );
    },
    onNotice: (notice) => {
      const why = notice.kind === 'refusalNotProven' ? refusedWhy.get(notice.error) : undefined;
      output.event(
        {
          event: notice.kind,
          ...('error' in notice ? { error: notice.error.message } : {}),
          ...('error' in notice && notice.error instanceof RatsfachError
            ? { code: notice.error.code, hint: notice.error.hint }
            : {}),
          ...('retryInMs' in notice ? { retryInMs: notice.retryInMs } : {}),
          ...(why === undefined ? {} : { why }),
        },
        `${clock(context.now())} ${noticeLine(notice)}${why === undefined ? '' : ` (${why})`}`,
      );
    },
    openStream: (handlers) =>
      new EventStream({
        ...handlers,
        url: `${profile.serverUrl}${fillPath(pushEvents.url, { tenantId: profile.tenantId })}`,
        token: async () => setup.session().token,
        refreshToken: setup.relogin,
        heartbeatMs: pushHeartbeatMs,
        maxDelayMs: Math.max(setup.pollMs, 1_000),
        minDelayMs: Math.min(1_000, setup.pollMs),
      }),
    watchFolder: (events) => watchTree(setup.folder, events),
    isRefusal: (error) =>
      error instanceof ApiProblemError && (error.status === 401 || error.status === 403),
    onRefused: async (error) => {
      const verdict = await checkRevocation(setup);
      if (verdict.revoked) return verdict;
      refusedWhy.set(error, verdict.why);
      return undefined;
    },
    pollMs: setup.pollMs,
    safetyMs: setup.safetyMs,
    signal: shutdown.signal,
  });
  unregister();
  if (end.reason === 'stopped') {
    output.event({ event: 'stopped' }, `${clock(context.now())} stopped`);
    return ExitCode.ok;
  }

  const wipe = await wipeSyncedPlaintext(setup.fs, state);
  state.close();
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    await rm(join(run.profileDir, `${syncStateFile}${suffix}`), { force: true });
  }
  await rm(join(setup.folder, engineFolder), { recursive: true, force: true });
  await shred(profileKeysPath(run.profileDir));
  output.event(
    {
      event: 'revoked',
      deviceId: end.end.deviceId,
      revokedAt: end.end.revokedAt,
      deleted: wipe.deleted,
      editedHere: wipe.editedHere,
      failed: wipe.failed,
    },
    [
      `this device (${end.end.deviceId}) was revoked: a signed revocation verified from the pinned root`,
      `wiped: ${wipe.deleted.length} synced files, this device's sync state and its keys`,
      ...wipe.deleted.map((path) => `  deleted ${path}`),
      ...wipe.editedHere.map((path) => `  (edited here and never sent: ${path})`),
      ...wipe.failed.map((f) => `  could not delete ${f.path}: ${f.message} - delete it yourself`),
      'files you made here and never sent are kept; enrol this device again to sync',
    ].join('\n'),
  );
  return ExitCode.revoked;
};
