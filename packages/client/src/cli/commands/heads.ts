import type { Command } from 'commander';
import { cryptoReady, headsCode } from '@ratsfach/crypto';
import type { CliContext } from '../cliContext.js';
import { commandAction } from '../commandAction.js';
import { openSyncState } from '../../sync/syncStateFile.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * `ratsfach heads`: a short code of every chain head this device has seen, to compare with
 * colleagues at a meeting: equal codes mean both were shown the same history.
 */
export const registerHeads = (program: Command, context: CliContext): void => {
  program
    .command('heads')
    .description('print a short code of the chain heads this device has seen, to compare in person')
    .action(
      commandAction(context, async ({ output, profileDir }) => {
        await cryptoReady();
        const state = openSyncState(profileDir);
        try {
          const heads = state.seenHeads().heads();
          const code = headsCode(heads);
          output.result(
            {
              code,
              heads: heads.map((h) => ({ stream: h.stream, length: h.length, hash: hex(h.hash) })),
            },
            [
              code,
              `${heads.length} chains seen; compare this code with a colleague who syncs the same committees`,
            ],
          );
        } finally {
          state.close();
        }
      }),
    );
};
