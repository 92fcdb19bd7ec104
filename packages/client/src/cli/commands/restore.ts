import type { Command } from 'commander';
import { ConflictError, UnavailableError, ValidationError } from '@ratsfach/kernel';
import {
  readDocumentView,
  readVersionPlaintext,
  requireVersion,
} from '../../files/documentView.js';
import { FilesErrorCode } from '../../files/filesErrorCode.js';
import { NodeFileSystem, plaintextHash } from '../../node/nodeFileSystem.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { openFileWork, requireStaff, requireUnchanged, syncedFile } from './fileWork.js';

/**
 * `ratsfach restore <file> <version>` on a staff device: makes an old version the newest by
 * committing its verified content as a new version on top of the head (a restore never rewrites
 * history). The old version is read and verified like any content, written into the synced file
 * and sent by the same sync that sends any edit, so the new version is signed by this device
 * with the head as its parent. Refused on a reader's device, for a version that does not exist
 * or is the newest, and while the file holds unsent edits (they would be lost).
 */
export const registerRestore = (program: Command, context: CliContext): void => {
  program
    .command('restore')
    .description('make an old version of a synced file the newest (a new version; staff only)')
    .argument('<file>', 'a file in the synced folder')
    .argument('<version>', 'the version to bring back (ratsfach history <file> lists them)')
    .action(
      commandAction(context, async (run) => {
        const [file, versionText] = run.command.args as [string, string];
        if (!/^[1-9][0-9]{0,9}$/.test(versionText)) {
          run.output.error(
            new ValidationError(CliErrorCode.usage, `${versionText} is no version number`, {
              hint: 'Pass a version number as ratsfach history <file> lists it, e.g. 2.',
            }),
          );
          return ExitCode.usage;
        }
        const number = Number(versionText);
        const work = await openFileWork(run, context.now);
        try {
          const target = syncedFile(work, file);
          const view = await readDocumentView(work, target.committeeId, target.documentId);
          requireStaff(view, work.device.userId, 'restore versions');
          if (view.document.deleted || view.document.erased) {
            throw new ConflictError(
              FilesErrorCode.wrongState,
              `${target.path} is ${view.document.erased ? 'erased' : 'deleted'}`,
              {
                hint: view.document.erased
                  ? 'An erased document cannot come back.'
                  : 'Bring it back first with ratsfach undelete <file>, then restore a version.',
              },
            );
          }
          const version = requireVersion(view, number);
          const head = view.document.latest?.body.version ?? 0;
          if (number === head) {
            throw new ValidationError(
              FilesErrorCode.wrongState,
              `version ${number} is the newest version of ${target.path} already`,
              { hint: 'Pick an older version from ratsfach history <file>.' },
            );
          }
          await requireUnchanged(target, head);
          const plaintext = await readVersionPlaintext(work, view, version);
          const same = plaintextHash(plaintext) === target.indexed?.hash;
          if (!same) {
            await new NodeFileSystem(work.folder as string).writeAtomic(target.path, plaintext);
          }
          const report = same ? null : await work.sync();
          const now = work.state.indexEntry(target.documentId);
          const restored = now !== undefined && now.version > head;
          const value = {
            file: target.path,
            documentId: target.documentId,
            restoredVersion: number,
            previousHead: head,
            newVersion: restored ? now.version : null,
            identical: same,
            send: report?.send ?? null,
          };
          if (!same && !restored) {
            throw new UnavailableError(
              FilesErrorCode.notSent,
              `version ${number} was written to ${target.path} but not sent: ${
                [...(report?.send.failed ?? []), ...(report?.send.refused ?? [])]
                  .map((f) => `${f.message} (${f.code})`)
                  .join('; ') || 'the service could not be reached'
              }`,
              {
                hint: 'It waits in the queue: ratsfach sync <dir> sends it (ratsfach status shows what waits).',
                details: { newVersion: null },
              },
            );
          }
          run.output.result(
            value,
            same
              ? [
                  `version ${number} of ${target.path} has the same content as the newest (${head}); nothing to restore`,
                ]
              : [
                  `restored ${target.path}: version ${number} is now version ${String(value.newVersion)}, signed by this device (versions 1 to ${head} stay in the history)`,
                ],
          );
          return ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};
