import type { Command } from 'commander';
import { restoreDocument } from '@ratsfach/api-contract';
import { fingerprint, requireWritable } from '@ratsfach/crypto';
import { ConflictError, UnavailableError } from '@ratsfach/kernel';
import { awaitProjection, projectionWaitMs } from '../../admin/adminSession.js';
import { readDocumentView } from '../../files/documentView.js';
import { FilesErrorCode } from '../../files/filesErrorCode.js';
import { NodeFileSystem } from '../../node/nodeFileSystem.js';
import { restoreDocumentCommand } from '../../records/documentRecords.js';
import type { SyncAndSendReport } from '../../sync/sendSync.js';
import type { CliContext } from '../cliContext.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { openFileWork, requireStaff, requireUnchanged, syncedFile } from './fileWork.js';

const notSent = (path: string, report: SyncAndSendReport, what: string): UnavailableError =>
  new UnavailableError(
    FilesErrorCode.notSent,
    `${path}: ${what} was not sent: ${
      [...report.send.failed, ...report.send.refused]
        .map((f) => `${f.message} (${f.code})`)
        .join('; ') || 'the service could not be reached'
    }`,
    {
      hint: 'It waits in the queue: ratsfach sync <dir> sends it (ratsfach status shows what waits).',
    },
  );

/**
 * `ratsfach delete <file>` on a staff device: the same as deleting the file in the synced folder
 * and syncing (a signed deletion for everyone, restorable with `ratsfach undelete`), checked
 * first: staff only, and never a file with unsent edits.
 */
export const registerDelete = (program: Command, context: CliContext): void => {
  program
    .command('delete')
    .description(
      'delete a synced file for everyone in its committee (staff; undelete brings it back)',
    )
    .argument('<file>', 'a file in the synced folder')
    .action(
      commandAction(context, async (run) => {
        const [file] = run.command.args as [string];
        const work = await openFileWork(run, context.now);
        try {
          const target = syncedFile(work, file);
          const view = await readDocumentView(work, target.committeeId, target.documentId);
          requireStaff(view, work.device.userId, 'delete documents');
          if (view.document.deleted || view.document.erased) {
            throw new ConflictError(
              FilesErrorCode.wrongState,
              `${target.path} is deleted already`,
              {
                hint: 'Bring it back with ratsfach undelete <file>.',
              },
            );
          }
          await requireUnchanged(target, view.document.latest?.body.version ?? 0);
          await new NodeFileSystem(work.folder as string).remove(target.path);
          const report = await work.sync();
          if (report.held.length > 0) {
            run.output.result({ file: target.path, deleted: false, held: report.held }, [
              `${target.path} was removed here, but the deletion is held with others: run ratsfach sync <dir> --confirm-deletions if that is right`,
            ]);
            return ExitCode.needsUser;
          }
          if (work.state.indexEntry(target.documentId) !== undefined) {
            throw notSent(target.path, report, 'the deletion');
          }
          run.output.result({ file: target.path, documentId: target.documentId, deleted: true }, [
            `deleted ${target.path} for everyone in ${target.committeeId} (ratsfach undelete ${file} brings it back)`,
          ]);
          return ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};

/**
 * `ratsfach undelete <file>` on a staff device: signs a `document-restored` record on the
 * verified head of a deleted document, submits it, and syncs so its newest version comes back
 * into the folder (verified like any other).
 */
export const registerUndelete = (program: Command, context: CliContext): void => {
  program
    .command('undelete')
    .description('bring a deleted document back for everyone (staff)')
    .argument('<file>', 'the path the document had in the synced folder')
    .action(
      commandAction(context, async (run) => {
        const [file] = run.command.args as [string];
        const work = await openFileWork(run, context.now);
        try {
          const target = syncedFile(work, file);
          const view = await readDocumentView(work, target.committeeId, target.documentId);
          requireStaff(view, work.device.userId, 'undelete documents');
          const { document, committee, trust } = view;
          if (!document.deleted || document.erased) {
            throw new ConflictError(
              FilesErrorCode.wrongState,
              document.erased
                ? `${target.path} was erased for good`
                : `${target.path} is not deleted`,
              {
                hint: document.erased
                  ? 'An erased document cannot come back.'
                  : 'Nothing to undelete; ratsfach history <file> shows its versions.',
              },
            );
          }
          const { device } = work;
          requireWritable(
            trust,
            committee,
            fingerprint(device.keys.signing.publicKey),
            Math.floor(context.now().getTime() / 1000),
          );
          const command = restoreDocumentCommand(
            {
              tenantId: device.tenantId,
              committeeId: committee.committeeId,
              documentId: target.documentId,
              tenantPosition: Math.max(trust.tenantHead.length, committee.tenantPosition),
              committeeHead: committee.head,
              signerUserId: device.userId,
              signerDeviceId: device.deviceId,
              signer: device.keys.signing,
              link: { sequence: document.head.length, previousHash: document.head.hash },
            },
            { now: context.now().getTime() },
          );
          await work.fetch.api.call(restoreDocument, {
            params: { tenantId: device.tenantId, documentId: target.documentId },
            body: command as never,
          });
          await awaitProjection(work.fetch.api, projectionWaitMs);
          const report = await work.sync();
          const back = work.state.indexEntry(target.documentId);
          run.output.result(
            {
              file: back?.path ?? target.path,
              documentId: target.documentId,
              undeleted: true,
              inFolder: back !== undefined,
              unreadable: report.unreadable,
            },
            [
              back === undefined
                ? `undeleted ${target.path} for everyone; it was not fetched here yet (${report.unreadable.map((u) => u.message).join('; ') || 'run ratsfach sync <dir>'})`
                : `undeleted ${back.path} for everyone in ${target.committeeId}; it is back in the folder`,
            ],
          );
          return back === undefined ? ExitCode.error : ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};
