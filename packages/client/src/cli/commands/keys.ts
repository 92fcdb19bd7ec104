import type { Command } from 'commander';
import { cryptoReady } from '@ratsfach/crypto';
import { ApiClient } from '../../http/apiClient.js';
import { logInDevice } from '../../http/deviceLogin.js';
import { recordsChainSource } from '../../http/recordsChainSource.js';
import type { KeyDevice } from '../../keys/committeeViews.js';
import { keyUpkeep } from '../../keys/keyUpkeep.js';
import { keyReportLines } from '../../keys/keyReportLines.js';
import { knownCommittees } from '../../keys/knownCommittees.js';
import type { ChainSource } from '../../sync/syncOnce.js';
import { openSyncState } from '../../sync/syncStateFile.js';
import type { SqliteLocalState } from '../../node/sqliteLocalState.js';
import type { CliContext } from '../cliContext.js';
import { commandAction, type CommandRun } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { readPassphrase } from '../passphrase.js';
import { openProfileKeys, ProfileKind, readProfile } from '../profile.js';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));

/** A member device opened for key work: logged in, its chains and its local state. */
export interface KeyWork {
  readonly api: ApiClient;
  readonly chains: ChainSource;
  readonly device: KeyDevice;
  readonly state: SqliteLocalState;
}

/** Opens the profile's keys, logs in and opens the local state (the caller closes it). */
export async function openKeyWork(run: CommandRun): Promise<KeyWork> {
  await cryptoReady();
  const profile = await readProfile(run.profileDir, ProfileKind.member);
  const keys = await openProfileKeys(
    run.profileDir,
    await readPassphrase(run.devicePassphrase, 'device passphrase'),
  );
  const { api } = await logInDevice(new ApiClient({ baseUrl: profile.serverUrl }), {
    tenantId: profile.tenantId,
    deviceId: profile.deviceId,
    signing: keys.signing,
  });
  return {
    api,
    chains: recordsChainSource(api, profile.tenantId),
    device: {
      tenantId: profile.tenantId,
      userId: profile.userId,
      deviceId: profile.deviceId,
      keys,
      rootPin: fromHex(profile.rootFingerprint.slice(0, 40)),
    },
    state: openSyncState(run.profileDir),
  };
}

/**
 * `ratsfach keys [<committee>] [--rotate]`: on a staff device, the key work of its committees
 * (start epoch 0, a new epoch after a removal or revocation, wrap the current key for newly
 * confirmed devices), then what each committee's keys look like. Exit 1 when a committee's key
 * work failed, 3 when devices wait for a confirmation, 0 otherwise.
 */
export const registerKeys = (program: Command, context: CliContext): void => {
  program
    .command('keys')
    .description(
      "keep your committees' keys: start epochs, rotate after removals, wrap for confirmed devices",
    )
    .argument('[committee]', 'only this committee')
    .option('--rotate', 'start a new key epoch even when none is due')
    .action(
      commandAction(context, async (run) => {
        const [only] = run.command.args as [string | undefined];
        const options = run.command.opts<{ rotate?: boolean }>();
        const work = await openKeyWork(run);
        try {
          const known = await knownCommittees(
            work.api,
            work.state,
            work.device.tenantId,
            work.device.userId,
          );
          const committees = only === undefined ? [...known.keys()] : [only];
          const reports = await keyUpkeep({
            api: work.api,
            chains: work.chains,
            device: work.device,
            state: work.state,
            committees,
            rotate: options.rotate === true,
            now: context.now(),
          });
          run.output.result(
            { committees: reports },
            reports.length === 0
              ? [
                  'no committees yet: this device is no member of any (ratsfach confirm --committee <id> for a founding staff member)',
                ]
              : reports.flatMap(keyReportLines),
          );
          if (reports.some((r) => r.error !== null)) return ExitCode.error;
          return reports.some((r) => r.staff && r.waiting.length > 0)
            ? ExitCode.needsUser
            : ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};
