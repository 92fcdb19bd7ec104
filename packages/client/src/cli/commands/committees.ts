import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConflictError, ValidationError } from '@ratsfach/kernel';
import { foldCommittees } from '../../keys/committeeViews.js';
import { knownCommittees } from '../../keys/knownCommittees.js';
import { NodeFileSystem, plaintextHash, resolveInside } from '../../node/nodeFileSystem.js';
import { selectedCommittees } from '../../sync/syncOnce.js';
import { SyncSetting } from '../../sync/syncStateFile.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { openKeyWork } from './keys.js';

/** One committee this device can read, as `ratsfach committees` shows it. */
export interface CommitteeEntry {
  readonly committeeId: string;
  /** The role from the verified committee chain (null: added, not co-signed by staff yet). */
  readonly role: string | null;
  /** Documents synced here (not deleted). */
  readonly documents: number;
  readonly selected: boolean;
}

const idPattern = /^[a-z0-9_]{1,64}$/;

/**
 * `ratsfach committees [--select a,b | --all]`: the committees this device can read, from their
 * verified chains, and which of them `ratsfach sync` keeps. Deselecting a committee removes its
 * synced files from the folder (those exactly as synced; a file with edits here stays and is
 * named) and forgets them, and says so; it is refused while changes of that committee wait to be
 * sent. Selecting one again makes the next sync read everything anew.
 */
export const registerCommittees = (program: Command, context: CliContext): void => {
  program
    .command('committees')
    .description('list the committees you can read; choose which ones ratsfach sync keeps')
    .option('--select <ids>', 'keep only these committees (comma-separated)')
    .option('--all', 'keep every committee you can read')
    .action(
      commandAction(context, async (run) => {
        const options = run.command.opts<{ select?: string; all?: boolean }>();
        const wanted =
          options.select === undefined
            ? undefined
            : options.select
                .split(',')
                .map((s) => s.trim())
                .filter((s) => s !== '');
        if (
          (wanted !== undefined && options.all === true) ||
          (wanted !== undefined &&
            (wanted.length === 0 || !wanted.every((id) => idPattern.test(id))))
        ) {
          run.output.error(
            new ValidationError(
              CliErrorCode.usage,
              options.all === true
                ? '--select and --all exclude each other'
                : `--select needs committee ids separated by commas, got ${JSON.stringify(options.select)}`,
              { hint: 'For example: ratsfach committees --select finanz,bau (or --all).' },
            ),
          );
          return ExitCode.usage;
        }
        const work = await openKeyWork(run);
        try {
          const { state, device } = work;
          const known = await knownCommittees(work.api, state, device.tenantId, device.userId);
          const views = await foldCommittees(work.chains, device, [...known.keys()], state);
          const readable = [...views.committees.keys()]
            .filter((id) => views.committees.get(id)?.state.members.has(device.userId))
            .sort();
          const before = selectedCommittees(state);
          let after = before;
          const removed: string[] = [];
          const kept: string[] = [];
          if (wanted !== undefined || options.all === true) {
            const unknown = (wanted ?? []).filter((id) => !readable.includes(id));
            if (unknown.length > 0) {
              throw new ValidationError(
                CliErrorCode.usage,
                `this device cannot read ${unknown.join(', ')}`,
                {
                  hint: `Choose among the committees listed by ratsfach committees: ${readable.join(', ') || 'none yet'}.`,
                  details: { unknown },
                },
              );
            }
            after = wanted === undefined ? null : new Set(wanted);
            const dropped = readable.filter(
              (id) => (before === null || before.has(id)) && after !== null && !after.has(id),
            );
            const waiting = state
              .queue()
              .filter((q) => dropped.includes(String(q.payload.committeeId)));
            if (waiting.length > 0) {
              throw new ConflictError(
                'RATSFACH_FILES_CHANGES_WAITING',
                `${waiting.length} changes of ${[...new Set(waiting.map((q) => String(q.payload.committeeId)))].join(', ')} wait to be sent; nothing was deselected`,
                { hint: 'Run ratsfach sync <dir> first so they are sent, then deselect.' },
              );
            }
            const folder = state.setting(SyncSetting.folder);
            const fs = folder === undefined ? undefined : new NodeFileSystem(folder);
            for (const entry of state.index().filter((e) => dropped.includes(e.committeeId))) {
              let hash: string | null = null;
              if (folder !== undefined) {
                try {
                  hash = plaintextHash(await readFile(resolveInside(folder, entry.path)));
                } catch {
                  hash = null;
                }
              }
              if (hash === entry.hash) {
                await fs?.remove(entry.path);
                removed.push(entry.path);
              } else if (hash !== null) kept.push(entry.path);
              state.removeIndexEntry(entry.documentId);
            }
            for (const doc of state.remote().filter((d) => dropped.includes(d.committeeId))) {
              state.removeRemote(doc.documentId);
            }
            const added = readable.filter(
              (id) => before !== null && !before.has(id) && (after === null || after.has(id)),
            );
            state.setSetting(
              SyncSetting.selectedCommittees,
              after === null ? null : JSON.stringify([...after].sort()),
            );
            // A committee selected again was skipped by the syncs since: read everything anew.
            if (added.length > 0) state.setCursor(null);
          }
          const remote = state.remote();
          const list: CommitteeEntry[] = readable.map((committeeId) => {
            const member = views.committees.get(committeeId)?.state.members.get(device.userId);
            return {
              committeeId,
              role: member?.cosigned === true ? member.role : null,
              documents: remote.filter((d) => d.committeeId === committeeId && !d.deleted).length,
              selected: after === null || after.has(committeeId),
            };
          });
          const failed = [...views.failed].map(([committeeId, error]) => ({ committeeId, error }));
          run.output.result({ committees: list, removed, kept, failed }, [
            ...(list.length === 0
              ? ['no committees yet: this device is no member of any']
              : list.map(
                  (c) =>
                    `${c.selected ? '[x]' : '[ ]'} ${c.committeeId.padEnd(20)} ${(c.role ?? 'waiting for staff').padEnd(18)} ${c.documents} documents`,
                )),
            ...(removed.length === 0
              ? []
              : [
                  `removed ${removed.length} synced files of deselected committees from the folder: ${removed.join(', ')}`,
                ]),
            ...kept.map(
              (path) =>
                `kept ${path}: it has changes made here; it is no longer synced (move it elsewhere or select its committee again)`,
            ),
            ...failed.map(
              (f) => `cannot read ${f.committeeId}: ${f.error.message} (${f.error.code})`,
            ),
            ...(wanted === undefined && options.all !== true
              ? ['choose with: ratsfach committees --select <id,...> (or --all)']
              : []),
          ]);
          return failed.length > 0 ? ExitCode.error : ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};
