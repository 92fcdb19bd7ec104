import { isRatsfachError } from '@ratsfach/kernel';
import type { FileSystem } from '../ports/fileSystem.js';
import type { LocalState } from '../ports/localState.js';
import type { IndexEntry, SyncAction, SyncPlan } from './plan.js';
import { fileUnstableError } from './syncErrors.js';

/** Verified plaintext ready to go into the tree: its hash, and a one-time atomic move there. */
export interface PlaceableContent {
  readonly hash: string;
  place(path: string): Promise<void>;
}

/**
 * Where verified plaintext of a version comes from: the pull fetched, verified and decrypted it
 * before the plan was made (nothing unverified reaches this interface; in the engine it waits
 * as a staged file), and the hash is the one the plan was made with.
 */
export interface ContentSource {
  staged(documentId: string, version: number): Promise<PlaceableContent>;
}

/** An action that did not go through, and why; the others went on. */
export interface FailedAction {
  readonly action: SyncAction;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

export interface ApplyReport {
  /** Actions carried out here (files written, renamed, deleted; index updated). */
  readonly applied: number;
  /** Changes queued to be sent (they survive a restart in the local state). */
  readonly queued: number;
  readonly failed: readonly FailedAction[];
}

export interface ApplyOptions {
  readonly fs: FileSystem;
  readonly state: LocalState;
  readonly content: ContentSource;
  /** Hex hash of bytes, the same function the scan uses. */
  readonly hash: (bytes: Uint8Array) => string;
}

/** The index entry a pulled or adopted document leaves: the synced version at its path. */
const indexEntryOf = (action: Extract<SyncAction, { kind: 'pull' | 'adopt' }>): IndexEntry => ({
  documentId: action.documentId,
  committeeId: action.committeeId,
  path: action.path,
  version: action.version,
  hash: action.hash,
});

const outgoing = new Set<SyncAction['kind']>(['create', 'commit', 'moveRemote', 'deleteRemote']);

/**
 * The command id of an outgoing change: derived from what it changes, so planning the same
 * change again (after a restart, before it was sent) queues it once, and a retry of it is the
 * same command for the service (which then returns the first result).
 */
export const outgoingCommandId = (
  action: SyncAction,
  hash: (bytes: Uint8Array) => string,
): string => hash(new TextEncoder().encode(JSON.stringify(action))).slice(0, 32);

/**
 * Carries out a plan: local actions on the file system and the index, outgoing ones into the
 * queue. Before it overwrites or deletes a file it checks that the file still holds what the
 * plan was made from; one the user changed since the scan is left alone (the next sync plans
 * again), so no edit is lost to a race with the user. One failing action stops nothing else.
 */
export const applyPlan = async (plan: SyncPlan, options: ApplyOptions): Promise<ApplyReport> => {
  const { fs, state, content, hash } = options;
  let applied = 0;
  let queued = 0;
  const failed: FailedAction[] = [];

  /**
   * True when `path` holds `expected` (a hash), or nothing: writing where no file is, or
   * removing what is gone, loses nothing.
   */
  const holds = async (path: string, expected: string | null): Promise<boolean> => {
    if (!(await fs.exists(path))) return true;
    if (expected === null) return false;
    return (await fs.readStable(path)).hash === expected;
  };
  const unchangedOrThrow = async (path: string, expected: string | null): Promise<void> => {
    if (!(await holds(path, expected))) throw fileUnstableError(path, 1);
  };

  for (const action of plan.actions) {
    try {
      if (outgoing.has(action.kind)) {
        const before = state.queue().length;
        state.enqueue({
          commandId: outgoingCommandId(action, hash),
          kind: action.kind,
          payload: action as unknown as Record<string, unknown>,
        });
        if (state.queue().length > before) queued += 1;
        continue;
      }
      switch (action.kind) {
        case 'conflictCopy':
          await fs.rename(action.from, action.to);
          break;
        case 'moveLocal': {
          const entry = state.indexEntry(action.documentId);
          await unchangedOrThrow(action.from, entry?.hash ?? null);
          await fs.rename(action.from, action.to);
          if (entry !== undefined) {
            state.putIndexEntry({ ...entry, path: action.to, version: action.version });
          }
          break;
        }
        case 'pull': {
          const entry = state.indexEntry(action.documentId);
          // The file there now must be the synced one (or none): never overwrite an edit.
          const atTarget = state.indexEntryAt(action.path);
          await unchangedOrThrow(action.path, atTarget?.hash ?? null);
          const staged = await content.staged(action.documentId, action.version);
          if (staged.hash !== action.hash) {
            throw fileUnstableError(`${action.path} (version ${action.version})`, 1);
          }
          await staged.place(action.path);
          if (action.replaces !== null && action.replaces !== action.path) {
            await unchangedOrThrow(action.replaces, entry?.hash ?? null);
            await fs.remove(action.replaces);
          }
          state.putIndexEntry(indexEntryOf(action));
          break;
        }
        case 'deleteLocal': {
          const entry = state.indexEntry(action.documentId);
          if (action.reason === 'deleted') await unchangedOrThrow(action.path, entry?.hash ?? null);
          await fs.remove(action.path);
          state.removeIndexEntry(action.documentId);
          if (action.reason === 'accessLost') state.removeRemote(action.documentId);
          break;
        }
        case 'adopt':
          state.putIndexEntry(indexEntryOf(action));
          break;
        case 'forget':
          state.removeIndexEntry(action.documentId);
          break;
        /* c8 ignore next 2 */
        default:
          throw new Error(`unknown action ${(action as { kind: string }).kind}`);
      }
      applied += 1;
    } catch (error) {
      const typed = isRatsfachError(error) ? error : undefined;
      failed.push({
        action,
        code: typed?.code ?? 'RATSFACH_SYNC_UNEXPECTED',
        message: error instanceof Error ? error.message : String(error),
        hint: typed?.hint ?? 'the next sync tries again',
      });
    }
  }
  return { applied, queued, failed };
};
