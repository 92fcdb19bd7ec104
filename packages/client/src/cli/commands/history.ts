import type { Command } from 'commander';
import { readDocumentView, versionHistory } from '../../files/documentView.js';
import type { CliContext } from '../cliContext.js';
import { commandAction } from '../commandAction.js';
import { openFileWork, syncedFile } from './fileWork.js';

const sizeText = (size: number | null): string =>
  size === null
    ? '?'
    : size < 1024
      ? `${size} B`
      : size < 1024 * 1024
        ? `${(size / 1024).toFixed(1)} KiB`
        : `${(size / 1024 / 1024).toFixed(1)} MiB`;

/**
 * `ratsfach history <file>`: the version history of a synced file from its signed document
 * chain, folded from the pinned root on this device (the service's own history listing is never
 * shown: a record it changed, withheld or rolled back fails the fold and nothing is listed).
 */
export const registerHistory = (program: Command, context: CliContext): void => {
  program
    .command('history')
    .description('show the verified version history of a synced file')
    .argument('<file>', 'a file in the synced folder (or the path of a deleted one)')
    .action(
      commandAction(context, async (run) => {
        const [file] = run.command.args as [string];
        const work = await openFileWork(run, context.now);
        try {
          const target = syncedFile(work, file);
          const view = await readDocumentView(work, target.committeeId, target.documentId);
          const versions = await versionHistory(work, view);
          const head = view.document.latest?.body.version ?? 0;
          const status = view.document.erased
            ? 'erased'
            : view.document.deleted
              ? 'deleted'
              : 'active';
          run.output.result(
            {
              file: target.path,
              documentId: target.documentId,
              committeeId: target.committeeId,
              status,
              headVersion: head,
              versions,
            },
            [
              `${target.path} (${status}, ${versions.length} versions, verified)`,
              ...[...versions]
                .reverse()
                .map(
                  (v) =>
                    `  v${v.version}${v.version === head ? ' (newest)' : ''}  ${v.modifiedAt ?? 'date unknown'}  ${sizeText(v.size)}  by ${v.authorUserId} on ${v.authorDeviceId}${v.path !== null && v.path !== target.path ? `  as ${v.path}` : ''}`,
                ),
              ...(versions.length > 1 && status === 'active'
                ? ['restore one with: ratsfach restore <file> <version> (on a staff device)']
                : []),
            ],
          );
        } finally {
          work.state.close();
        }
      }),
    );
};
