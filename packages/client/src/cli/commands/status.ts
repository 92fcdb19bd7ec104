import type { Command } from 'commander';
import type { CliContext } from '../cliContext.js';
import { commandAction } from '../commandAction.js';
import { cryptoReady, fingerprint as fingerprintOf } from '@ratsfach/crypto';
import { formatFingerprint } from '../../admin/rootKeyFile.js';
import { readPassphrase, type PassphraseSources } from '../passphrase.js';
import { openProfileKeys, readProfile, type Profile } from '../profile.js';
import type { HeldDeletions } from '../../sync/plan.js';
import { openSyncState, SyncSetting } from '../../sync/syncStateFile.js';

const readProfileOrNone = async (dir: string): Promise<Profile | null> => {
  try {
    return await readProfile(dir);
  } catch (error) {
    if ((error as { code?: string }).code === 'RATSFACH_CLI_PROFILE_MISSING') return null;
    throw error;
  }
};

/**
 * The device's key fingerprint, when its passphrase comes from a file or the environment (status
 * never prompts): what a staff member compares before `ratsfach confirm`.
 */
const deviceFingerprint = async (
  dir: string,
  sources: PassphraseSources,
): Promise<string | null> => {
  if (sources.file === undefined && !sources.envValue) return null;
  await cryptoReady();
  const keys = await openProfileKeys(
    dir,
    await readPassphrase({ ...sources, ask: undefined }, 'device passphrase'),
  );
  return fingerprintOf(keys.signing.publicKey);
};

/** `ratsfach status`: the device, its folder and what waits (changes to send, held deletions). */
export const registerStatus = (program: Command, context: CliContext): void => {
  program
    .command('status')
    .description('show this device, its folder and what is waiting to be sent or confirmed')
    .action(
      commandAction(context, async ({ output, profileDir, devicePassphrase }) => {
        const profile = await readProfileOrNone(profileDir);
        const fingerprint =
          profile === null ? null : await deviceFingerprint(profileDir, devicePassphrase);
        const state = openSyncState(profileDir);
        try {
          const queue = state.queue();
          const held = JSON.parse(
            state.setting(SyncSetting.heldDeletions) ?? '[]',
          ) as HeldDeletions[];
          const value = {
            profile: profileDir,
            device: profile,
            fingerprint,
            folder: state.setting(SyncSetting.folder) ?? null,
            lastSync: state.setting(SyncSetting.lastSync) ?? null,
            documents: state.index().length,
            queued: queue.length,
            queue: queue.map((q) => ({
              kind: q.kind,
              path: q.payload.path ?? q.payload.to ?? null,
              attempts: q.attempts,
              error: q.lastError,
            })),
            failing: queue
              .filter((q) => q.lastError !== null)
              .map((q) => ({ kind: q.kind, error: q.lastError })),
            held: held.map(({ direction, count, total }) => ({ direction, count, total })),
          };
          output.result(value, [
            `profile  ${profileDir}`,
            profile === null
              ? 'device   not enrolled (ratsfach enrol <server-url> <code>)'
              : `device   ${profile.deviceId} of ${profile.userId}, ${profile.serverUrl}`,
            ...(fingerprint === null
              ? []
              : [
                  `key      ${formatFingerprint(fingerprint.slice(0, 16))} (staff compare it: ratsfach confirm)`,
                ]),
            `folder   ${value.folder ?? 'none yet (ratsfach sync <dir>)'}`,
            `synced   ${value.documents} documents, last ${value.lastSync ?? 'never'}`,
            `waiting  ${value.queued} changes to send${value.failing.length > 0 ? `, ${value.failing.length} failing` : ''}`,
            ...value.queue.map(
              (q) =>
                `         ${q.kind} ${String(q.path)}${q.attempts > 0 ? ` (${q.attempts} tries${q.error === null ? '' : `: ${q.error}`})` : ''}`,
            ),
            ...held.map(
              (h) =>
                `held     ${h.count} of ${h.total} files would be deleted ${h.direction === 'local' ? 'here' : 'for everyone'}: run ratsfach sync <dir> --confirm-deletions`,
            ),
          ]);
        } finally {
          state.close();
        }
      }),
    );
};
