import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalState } from '../ports/localState.js';
import { committeeFolder } from './syncOnce.js';

/** The local-state setting naming the committees whose folder the sync has made. */
export const committeeFoldersSetting = 'committeeFolders';

/** A committee folder the sync could not make, and what to do. */
export interface FolderProblem {
  readonly committeeId: string;
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

export interface CommitteeFoldersReport {
  /** Committees whose folder was made now (relative to the synced folder: `committeeFolder`). */
  readonly created: readonly string[];
  readonly failed: readonly FolderProblem[];
}

/**
 * Makes `<root>/<committee>/` for every committee in `readable` the sync has not made a folder
 * for yet, so a person finds where their committees' files go (and a staff member where to put
 * new ones) without making it by hand. Each committee's folder is made once: a folder the person
 * removed later is not made again, unless they leave the committee (`lost`) and join it again.
 * A folder that already exists is left as it is. A committee id is `[a-z0-9_]` (kernel stream
 * names), so the folder is one level below `root`.
 */
export async function makeCommitteeFolders(
  root: string,
  state: Pick<LocalState, 'setting' | 'setSetting'>,
  readable: readonly string[],
  lost: readonly string[],
): Promise<CommitteeFoldersReport> {
  const made = new Set(JSON.parse(state.setting(committeeFoldersSetting) ?? '[]') as string[]);
  for (const committeeId of lost) made.delete(committeeId);
  const created: string[] = [];
  const failed: FolderProblem[] = [];
  for (const committeeId of [...new Set(readable)].sort()) {
    if (made.has(committeeId) || lost.includes(committeeId)) continue;
    const path = committeeFolder(committeeId);
    try {
      // recursive: no error when it exists as a folder (made by hand); it names what it made.
      if ((await mkdir(join(root, path), { recursive: true })) !== undefined) {
        created.push(committeeId);
      }
      made.add(committeeId);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
      failed.push({
        committeeId,
        path,
        code: 'RATSFACH_SYNC_FOLDER_FAILED',
        message: `the folder ${path} for committee ${committeeId} could not be made (${code})`,
        hint:
          code === 'EEXIST' || code === 'ENOTDIR'
            ? `a file named ${path} is in the way: move it, then sync again`
            : 'check that the synced folder can be written to, then sync again',
      });
    }
  }
  state.setSetting(committeeFoldersSetting, JSON.stringify([...made].sort()));
  return { created, failed };
}
