import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UnavailableError, ValidationError } from '@ratsfach/kernel';
import { cryptoReady } from '@ratsfach/crypto';
import { ApiClient } from '../../http/apiClient.js';
import { logInDevice } from '../../http/deviceLogin.js';
import { recordsChainSource } from '../../http/recordsChainSource.js';
import { NodeFileSystem, plaintextHash } from '../../node/nodeFileSystem.js';
import { syncKeyUpkeep } from '../../keys/keyUpkeep.js';
import { defaultDeletionGuard } from '../../sync/plan.js';
import { sendProgressLine } from '../../sync/sendProgress.js';
import { isOffline } from '../../sync/sendQueue.js';
import { SendSpool } from '../../sync/sendSpool.js';
import { syncAndSend } from '../../sync/sendSync.js';
import { committeeFolder } from '../../sync/syncOnce.js';
import { openSyncState, SyncSetting } from '../../sync/syncStateFile.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { readPassphrase } from '../passphrase.js';
import { openProfileKeys, ProfileKind, readProfile } from '../profile.js';
import { runSyncWatch } from './syncWatch.js';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));

/** The service is not reachable: say how many changes wait for it (they stay queued). */
const offlineError = (serverUrl: string, profileDir: string, cause: unknown): UnavailableError => {
  const state = openSyncState(profileDir);
  const waiting = state.queue().length;
  state.close();
  return new UnavailableError(
    'RATSFACH_SYNC_OFFLINE',
    `the service at ${serverUrl} cannot be reached; ${waiting} changes wait to be sent`,
    {
      hint: 'nothing was lost: the waiting changes go out with the next ratsfach sync once the service is reachable',
      details: { waiting },
      cause,
    },
  );
};

/**
 * `ratsfach sync <dir>`: one verified sync of the folder with the service, then what this device
 * changed is sent (a staff device's queue: see `syncAndSend`); `--watch` keeps doing so until
 * stopped (see `runSyncWatch`). Exit 3 when a mass deletion is held (`--confirm-deletions` lets
 * it through), 1 when a file, document or change failed or the service could not be reached
 * (the others were synced; the next run tries again).
 */
export const registerSync = (program: Command, context: CliContext): void => {
  program
    .command('sync')
    .description('sync a folder with your committees: verify, decrypt and write, keep conflicts')
    .argument('<dir>', 'the folder to keep in sync')
    .option('--confirm-deletions', 'let a held mass deletion through')
    .option('--watch', 'keep the folder in sync until Ctrl-C (live push, folder watcher, polling)')
    .option('--poll-seconds <n>', 'with --watch: pass this often while push is down', '30')
    .action(
      commandAction(context, async (run) => {
        await cryptoReady();
        const [dir] = run.command.args as [string];
        const options = run.command.opts<{
          confirmDeletions?: boolean;
          watch?: boolean;
          pollSeconds: string;
        }>();
        const pollSeconds = Number(options.pollSeconds);
        if (!Number.isFinite(pollSeconds) || pollSeconds < 0.1) {
          throw new ValidationError(
            CliErrorCode.usage,
            '--poll-seconds takes a number of seconds',
            {
              hint: 'e.g. --poll-seconds 30',
            },
          );
        }
        const profile = await readProfile(run.profileDir, ProfileKind.member);
        const keys = await openProfileKeys(
          run.profileDir,
          await readPassphrase(run.devicePassphrase, 'device passphrase'),
        );
        const logIn = () =>
          logInDevice(new ApiClient({ baseUrl: profile.serverUrl }), {
            tenantId: profile.tenantId,
            deviceId: profile.deviceId,
            signing: keys.signing,
          });
        let session = await logIn().catch((error: unknown) => {
          throw isOffline(error) ? offlineError(profile.serverUrl, run.profileDir, error) : error;
        });
        const folder = resolve(dir);
        const fs = new NodeFileSystem(folder);
        await fs.recover();
        const state = openSyncState(run.profileDir);
        try {
          state.setSetting(SyncSetting.folder, folder);
          const rootPin = fromHex(profile.rootFingerprint.slice(0, 40));
          const spool = new SendSpool(join(run.profileDir, 'outgoing'));
          // Long uploads show a progress line on a terminal; never with --json, in a pipe or
          // between the status lines of --watch.
          const progress =
            options.watch !== true &&
            !run.output.json &&
            (context.stderr as { isTTY?: boolean }).isTTY === true
              ? sendProgressLine(
                  (text) => context.stderr.write(text),
                  () => Date.now(),
                )
              : undefined;
          const pass = async () => {
            const { tenantId, userId, deviceId } = profile;
            const keyNotes = await syncKeyUpkeep({
              api: session.api,
              chains: recordsChainSource(session.api, tenantId),
              device: { tenantId, userId, deviceId, keys, rootPin },
              state,
              now: context.now(),
            });
            for (const line of keyNotes) run.output.note(line);
            return syncAndSend({
              fetch: {
                api: session.api,
                baseUrl: profile.serverUrl,
                token: session.token,
                tenantId: profile.tenantId,
              },
              chains: recordsChainSource(session.api, profile.tenantId),
              device: {
                tenantId: profile.tenantId,
                userId: profile.userId,
                deviceId: profile.deviceId,
                keys,
                rootPin,
                name: state.setting('deviceName') ?? profile.deviceId,
              },
              state,
              fs,
              hash: plaintextHash,
              now: context.now(),
              deletionGuard: defaultDeletionGuard,
              confirmDeletions: options.confirmDeletions === true,
              root: folder,
              spool,
              ...(progress === undefined ? {} : { onProgress: progress.update }),
            });
          };
          if (options.watch === true) {
            return await runSyncWatch({
              run,
              profile,
              keys,
              rootPin,
              folder,
              fs,
              state,
              session: () => session,
              relogin: async () => {
                session = await logIn();
              },
              pass,
              pollMs: pollSeconds * 1000,
              safetyMs: 300_000,
            });
          }
          const report = await pass();
          progress?.end();
          state.setSetting(SyncSetting.lastSync, context.now().toISOString());
          const { send, folders } = report;
          run.output.result(report, [
            `synced ${folder}: ${report.fetched} documents fetched, ${report.applied} changes applied here, ${send.sent} sent, ${send.waiting} waiting to be sent`,
            ...folders.created.map(
              (committeeId) =>
                `  new folder for committee ${committeeId}: ${join(folder, committeeFolder(committeeId))}`,
            ),
            ...folders.failed.map((f) => `  not done: ${f.message} (${f.code}) - ${f.hint}`),
            ...(send.offline
              ? [
                  '  the service could not be reached: the waiting changes go out with the next sync',
                ]
              : []),
            ...send.conflicts.map(
              (c) => `  changed elsewhere first, kept as a conflict copy: ${c.path}`,
            ),
            ...[...send.failed, ...send.refused].map(
              (f) => `  not sent: ${f.path}: ${f.message} (${f.code}) - ${f.hint}`,
            ),
            ...report.failed.map((f) => `  not done: ${f.message} (${f.code}) - ${f.hint}`),
            ...report.unreadable.map(
              (u) => `  not verified, left as it was: ${u.documentId}: ${u.message}`,
            ),
            ...report.skipped.map((s) => `  kept here only (${s.reason}): ${s.path}`),
            ...report.held.map(
              (h) =>
                `  held: ${h.count} of ${h.total} files would be deleted ${h.direction === 'local' ? 'here' : 'for everyone'}; run again with --confirm-deletions if that is right`,
            ),
          ]);
          if (report.held.length > 0) return ExitCode.needsUser;
          return report.failed.length +
            folders.failed.length +
            report.unreadable.length +
            send.failed.length +
            send.refused.length >
            0 || send.offline
            ? ExitCode.error
            : ExitCode.ok;
        } finally {
          state.close();
        }
      }),
    );
};
