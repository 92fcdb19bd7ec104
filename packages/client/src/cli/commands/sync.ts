import { resolve } from 'node:path';
import type { Command } from 'commander';
import { cryptoReady } from '@ratsfach/crypto';
import { ApiClient } from '../../http/apiClient.js';
import { logInDevice } from '../../http/deviceLogin.js';
import { recordsChainSource } from '../../http/recordsChainSource.js';
import { NodeFileSystem, plaintextHash } from '../../node/nodeFileSystem.js';
import { syncKeyUpkeep } from '../../keys/keyUpkeep.js';
import { defaultDeletionGuard } from '../../sync/plan.js';
import { syncOnce } from '../../sync/syncOnce.js';
import { openSyncState, SyncSetting } from '../../sync/syncStateFile.js';
import type { CliContext } from '../cliContext.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { readPassphrase } from '../passphrase.js';
import { openProfileKeys, ProfileKind, readProfile } from '../profile.js';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));

/**
 * `ratsfach sync <dir>`: one verified sync of the folder with the service. Exit 3 when a mass
 * deletion is held (`--confirm-deletions` lets it through), 1 when a file or document failed
 * (the others were synced; the next run tries again).
 */
export const registerSync = (program: Command, context: CliContext): void => {
  program
    .command('sync')
    .description('sync a folder with your committees: verify, decrypt and write, keep conflicts')
    .argument('<dir>', 'the folder to keep in sync')
    .option('--confirm-deletions', 'let a held mass deletion through')
    .action(
      commandAction(context, async (run) => {
        await cryptoReady();
        const [dir] = run.command.args as [string];
        const options = run.command.opts<{ confirmDeletions?: boolean }>();
        const profile = await readProfile(run.profileDir, ProfileKind.member);
        const keys = await openProfileKeys(
          run.profileDir,
          await readPassphrase(run.devicePassphrase, 'device passphrase'),
        );
        const { api, token } = await logInDevice(new ApiClient({ baseUrl: profile.serverUrl }), {
          tenantId: profile.tenantId,
          deviceId: profile.deviceId,
          signing: keys.signing,
        });
        const folder = resolve(dir);
        const fs = new NodeFileSystem(folder);
        await fs.recover();
        const state = openSyncState(run.profileDir);
        try {
          state.setSetting(SyncSetting.folder, folder);
          const { tenantId, userId, deviceId } = profile;
          const keyNotes = await syncKeyUpkeep({
            api,
            chains: recordsChainSource(api, tenantId),
            device: {
              tenantId,
              userId,
              deviceId,
              keys,
              rootPin: fromHex(profile.rootFingerprint.slice(0, 40)),
            },
            state,
            now: context.now(),
          });
          for (const line of keyNotes) run.output.note(line);
          const report = await syncOnce({
            fetch: { api, baseUrl: profile.serverUrl, token, tenantId: profile.tenantId },
            chains: recordsChainSource(api, profile.tenantId),
            device: {
              tenantId: profile.tenantId,
              userId: profile.userId,
              deviceId: profile.deviceId,
              keys,
              rootPin: fromHex(profile.rootFingerprint.slice(0, 40)),
              name: state.setting('deviceName') ?? profile.deviceId,
            },
            state,
            fs,
            hash: plaintextHash,
            now: context.now(),
            deletionGuard: defaultDeletionGuard,
            confirmDeletions: options.confirmDeletions === true,
          });
          state.setSetting(SyncSetting.lastSync, context.now().toISOString());
          run.output.result(report, [
            `synced ${folder}: ${report.fetched} documents fetched, ${report.applied} changes applied here, ${report.queued} queued to send`,
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
          return report.failed.length + report.unreadable.length > 0 ? ExitCode.error : ExitCode.ok;
        } finally {
          state.close();
        }
      }),
    );
};
