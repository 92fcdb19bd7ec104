import { conflictName } from './conflictName.js';

/** What this device last synced of one document: the common base of local and remote. */
export interface IndexEntry {
  readonly documentId: string;
  readonly committeeId: string;
  /** Path relative to the synced folder, `/`-separated. */
  readonly path: string;
  readonly version: number;
  /** Hash of the plaintext of `version` as written here (hex). */
  readonly hash: string;
}

/** A file found in the synced folder by the last scan. */
export interface LocalFile {
  readonly path: string;
  readonly hash: string;
  readonly size: number;
}

/** The verified head of a document on the server, as this device last checked it. */
export interface RemoteDocument {
  readonly documentId: string;
  readonly committeeId: string;
  /** Where the signed metadata puts it, relative to the synced folder. */
  readonly path: string;
  readonly version: number;
  /** Hash of the head version's plaintext (hex), known once it was fetched and verified. */
  readonly hash: string;
  readonly size: number;
  /** Signed modification time of the head version, ms. */
  readonly modifiedAt: number;
  /** A verified deletion record is the head. */
  readonly deleted: boolean;
}

/** Why a deletion of local plaintext was planned. */
export type LocalDeletionReason = 'deleted' | 'accessLost';

/** One step the applier carries out; each is idempotent against the index it updates. */
export type SyncAction =
  /** Rename a local file that lost a race out of the way; a `create` of `to` follows if writable. */
  | { readonly kind: 'conflictCopy'; readonly from: string; readonly to: string }
  /** Rename a local file the way a verified move record says (content unchanged). */
  | {
      readonly kind: 'moveLocal';
      readonly documentId: string;
      readonly from: string;
      readonly to: string;
      readonly version: number;
    }
  /** Write the verified head version to `path` (atomically), removing `replaces` if set. */
  | {
      readonly kind: 'pull';
      readonly documentId: string;
      readonly committeeId: string;
      readonly version: number;
      readonly path: string;
      readonly hash: string;
      readonly replaces: string | null;
    }
  /** Delete local plaintext on a verified deletion (or lost access). */
  | {
      readonly kind: 'deleteLocal';
      readonly documentId: string;
      readonly path: string;
      readonly reason: LocalDeletionReason;
    }
  /** Send a file that is not a document yet as a new document. */
  | {
      readonly kind: 'create';
      readonly committeeId: string;
      readonly path: string;
      readonly hash: string;
    }
  /** Send a local edit as the next version after `parentVersion`. */
  | {
      readonly kind: 'commit';
      readonly documentId: string;
      readonly committeeId: string;
      readonly parentVersion: number;
      readonly path: string;
      readonly hash: string;
    }
  /** Send a local rename as a move record. */
  | {
      readonly kind: 'moveRemote';
      readonly documentId: string;
      readonly committeeId: string;
      readonly version: number;
      readonly from: string;
      readonly to: string;
    }
  /** Send a local deletion as a deletion record. */
  | {
      readonly kind: 'deleteRemote';
      readonly documentId: string;
      readonly committeeId: string;
      readonly version: number;
      readonly path: string;
    }
  /** Both sides hold the same bytes: record the remote version as synced, write nothing. */
  | {
      readonly kind: 'adopt';
      readonly documentId: string;
      readonly committeeId: string;
      readonly version: number;
      readonly path: string;
      readonly hash: string;
    }
  /** Both sides deleted it: drop it from the index. */
  | { readonly kind: 'forget'; readonly documentId: string };

/** Why a local change is kept here but not sent. */
export type SkipReason = 'readOnly' | 'outsideCommittee';

export interface SkippedFile {
  readonly path: string;
  readonly reason: SkipReason;
}

/** Deletions held back until the user confirms them (`ratsfach sync --confirm-deletions`). */
export interface HeldDeletions {
  /** `local`: the server asks to delete files here; `remote`: files deleted here would be deleted for everyone. */
  readonly direction: 'local' | 'remote';
  readonly count: number;
  /** Number of synced documents the share is taken of. */
  readonly total: number;
  readonly paths: readonly string[];
}

/** When a batch of deletions counts as "mass": both limits must be passed. */
export interface DeletionGuard {
  /** Share of the synced documents, 0..1 (0.3: more than 30 %). */
  readonly share: number;
  /** Fewer deletions than this are never held. */
  readonly minimum: number;
}

export const defaultDeletionGuard: DeletionGuard = Object.freeze({ share: 0.3, minimum: 5 });

export interface PlanInput {
  readonly index: readonly IndexEntry[];
  readonly local: readonly LocalFile[];
  /** Every document this device has verified; one missing here is taken as unchanged. */
  readonly remote: readonly RemoteDocument[];
  /** The committee a local path belongs to (its top folder), or null outside every committee. */
  readonly committeeOf: (path: string) => string | null;
  /** Committees this device may write to (a staff role, a fresh heartbeat). */
  readonly writable: ReadonlySet<string>;
  /** Committees this device lost access to by a verified record (its user left). */
  readonly lostCommittees: ReadonlySet<string>;
  /** Name of this device, used in conflict copies. */
  readonly deviceName: string;
  readonly now: Date;
  readonly deletionGuard: DeletionGuard;
  /** The user confirmed the held deletions. */
  readonly confirmDeletions: boolean;
}

export interface SyncPlan {
  readonly actions: readonly SyncAction[];
  readonly held: readonly HeldDeletions[];
  readonly skipped: readonly SkippedFile[];
}

const phase: Record<SyncAction['kind'], number> = {
  conflictCopy: 0,
  moveLocal: 1,
  pull: 2,
  deleteLocal: 3,
  adopt: 4,
  forget: 4,
  create: 5,
  commit: 5,
  moveRemote: 5,
  deleteRemote: 6,
};

/**
 * Decides a sync: a three-way comparison of what this device last synced (the index), what is
 * on disk now, and the verified remote heads. Pure: the same input gives the same plan.
 *
 * The rules, in the order a reader checks them: an edit is never lost (a local edit that meets
 * a remote one becomes a conflict copy and its own document; a local edit of a document deleted
 * remotely is sent as a new document); identical bytes on both sides are no conflict; a
 * deletion is applied only when the other side did not change the file; a batch of deletions
 * above the guard is held until confirmed; a change this device may not send stays here.
 */
export const plan = (input: PlanInput): SyncPlan => {
  const actions: SyncAction[] = [];
  const skipped: SkippedFile[] = [];
  const localByPath = new Map(input.local.map((file) => [file.path, file]));
  const remoteById = new Map(input.remote.map((doc) => [doc.documentId, doc]));
  const indexById = new Map(input.index.map((entry) => [entry.documentId, entry]));
  const tracked = new Set(input.index.map((entry) => entry.path));
  /** Local files whose fate is decided (renamed, adopted, replaced). */
  const consumed = new Set<string>();
  /** Paths that will exist after the plan; conflict names avoid them. */
  const planned = new Set<string>();
  const taken = (candidate: string): boolean =>
    localByPath.has(candidate) || planned.has(candidate);
  const untrackedByHash = new Map<string, LocalFile[]>();
  for (const file of input.local) {
    if (tracked.has(file.path)) continue;
    const list = untrackedByHash.get(file.hash) ?? [];
    list.push(file);
    untrackedByHash.set(file.hash, list);
  }

  const keepAsConflict = (path: string, committeeId: string, hash: string): void => {
    const copy = conflictName(path, input.deviceName, input.now, taken);
    planned.add(copy);
    actions.push({ kind: 'conflictCopy', from: path, to: copy });
    if (input.writable.has(committeeId)) {
      actions.push({ kind: 'create', committeeId, path: copy, hash });
    } else {
      skipped.push({ path: copy, reason: 'readOnly' });
    }
  };
  const pull = (doc: RemoteDocument, replaces: string | null): void => {
    planned.add(doc.path);
    actions.push({
      kind: 'pull',
      documentId: doc.documentId,
      committeeId: doc.committeeId,
      version: doc.version,
      path: doc.path,
      hash: doc.hash,
      replaces,
    });
  };

  /**
   * A local file that holds `remote`'s bytes is adopted as it (at the remote's path); one that
   * holds other bytes is kept as a conflict copy and the remote version is pulled.
   */
  const adoptOrKeep = (
    remote: RemoteDocument,
    committeeId: string,
    local: { readonly path: string; readonly hash: string },
  ): void => {
    if (local.hash !== remote.hash) {
      keepAsConflict(local.path, committeeId, local.hash);
      pull(remote, null);
      return;
    }
    planned.add(remote.path);
    actions.push({
      kind: 'adopt',
      documentId: remote.documentId,
      committeeId,
      version: remote.version,
      path: remote.path,
      hash: remote.hash,
    });
  };

  for (const entry of input.index) {
    const remote = remoteById.get(entry.documentId);
    const local = localByPath.get(entry.path);
    consumed.add(entry.path);
    if (input.lostCommittees.has(entry.committeeId)) {
      actions.push(
        local === undefined
          ? { kind: 'forget', documentId: entry.documentId }
          : {
              kind: 'deleteLocal',
              documentId: entry.documentId,
              path: entry.path,
              reason: 'accessLost',
            },
      );
      continue;
    }
    const localState =
      local === undefined ? 'deleted' : local.hash === entry.hash ? 'same' : 'modified';
    const writable = input.writable.has(entry.committeeId);
    const remoteChanged =
      remote !== undefined &&
      (remote.deleted || remote.version !== entry.version || remote.path !== entry.path);

    if (remote === undefined || !remoteChanged) {
      if (localState === 'same') {
        planned.add(entry.path);
      } else if (localState === 'modified' && local !== undefined) {
        planned.add(entry.path);
        if (writable) {
          actions.push({
            kind: 'commit',
            documentId: entry.documentId,
            committeeId: entry.committeeId,
            parentVersion: entry.version,
            path: entry.path,
            hash: local.hash,
          });
        } else {
          skipped.push({ path: entry.path, reason: 'readOnly' });
        }
      } else if (!writable) {
        // A reader cannot delete for everyone: the document comes back.
        const head = remote ?? { ...entry, size: 0, modifiedAt: 0, deleted: false };
        pull(head, null);
      } else {
        const renamed = (untrackedByHash.get(entry.hash) ?? []).find(
          (file) => !consumed.has(file.path) && input.committeeOf(file.path) === entry.committeeId,
        );
        if (renamed !== undefined) {
          consumed.add(renamed.path);
          planned.add(renamed.path);
          actions.push({
            kind: 'moveRemote',
            documentId: entry.documentId,
            committeeId: entry.committeeId,
            version: entry.version,
            from: entry.path,
            to: renamed.path,
          });
        } else {
          actions.push({
            kind: 'deleteRemote',
            documentId: entry.documentId,
            committeeId: entry.committeeId,
            version: entry.version,
            path: entry.path,
          });
        }
      }
      continue;
    }

    if (remote.deleted) {
      if (localState === 'same') {
        actions.push({
          kind: 'deleteLocal',
          documentId: entry.documentId,
          path: entry.path,
          reason: 'deleted',
        });
      } else if (localState === 'deleted') {
        actions.push({ kind: 'forget', documentId: entry.documentId });
      } else if (local !== undefined) {
        // Edited here, deleted there: the edit lives on as a new document.
        actions.push({ kind: 'forget', documentId: entry.documentId });
        planned.add(entry.path);
        if (writable) {
          actions.push({
            kind: 'create',
            committeeId: entry.committeeId,
            path: entry.path,
            hash: local.hash,
          });
        } else {
          skipped.push({ path: entry.path, reason: 'readOnly' });
        }
      }
      continue;
    }

    const versionChanged = remote.version !== entry.version;
    if (localState === 'same') {
      if (versionChanged) {
        pull(remote, remote.path === entry.path ? null : entry.path);
      } else {
        planned.add(remote.path);
        actions.push({
          kind: 'moveLocal',
          documentId: entry.documentId,
          from: entry.path,
          to: remote.path,
          version: remote.version,
        });
      }
    } else if (localState === 'deleted') {
      if (versionChanged || !writable) {
        pull(remote, null);
      } else {
        actions.push({
          kind: 'deleteRemote',
          documentId: entry.documentId,
          committeeId: entry.committeeId,
          version: remote.version,
          path: remote.path,
        });
      }
    } else if (local !== undefined) {
      if (local.hash === remote.hash && remote.path !== entry.path) {
        actions.push({
          kind: 'moveLocal',
          documentId: entry.documentId,
          from: entry.path,
          to: remote.path,
          version: remote.version,
        });
      }
      adoptOrKeep(remote, entry.committeeId, local);
    }
  }

  for (const remote of input.remote) {
    if (indexById.has(remote.documentId) || remote.deleted) continue;
    if (input.lostCommittees.has(remote.committeeId)) continue;
    const local = localByPath.get(remote.path);
    if (local === undefined || consumed.has(remote.path)) {
      if (planned.has(remote.path)) {
        // Two documents under one name: the newcomer gets a distinct name, both survive.
        pull(
          {
            ...remote,
            path: conflictName(remote.path, remote.documentId.slice(0, 8), input.now, taken),
          },
          null,
        );
      } else {
        pull(remote, null);
      }
      continue;
    }
    consumed.add(local.path);
    adoptOrKeep(remote, remote.committeeId, local);
  }

  for (const file of input.local) {
    if (consumed.has(file.path) || tracked.has(file.path)) continue;
    const committeeId = input.committeeOf(file.path);
    if (committeeId === null) {
      skipped.push({ path: file.path, reason: 'outsideCommittee' });
    } else if (!input.writable.has(committeeId)) {
      skipped.push({ path: file.path, reason: 'readOnly' });
    } else {
      actions.push({ kind: 'create', committeeId, path: file.path, hash: file.hash });
    }
  }

  return guardDeletions(orderActions(actions, remoteById), skipped, input);
};

const orderActions = (
  actions: readonly SyncAction[],
  remoteById: ReadonlyMap<string, RemoteDocument>,
): SyncAction[] => {
  // Pulls go newest first, then smallest first: what people open next arrives first.
  const pullKey = (action: SyncAction): [number, number] => {
    const doc = action.kind === 'pull' ? remoteById.get(action.documentId) : undefined;
    return [-(doc?.modifiedAt ?? 0), doc?.size ?? 0];
  };
  return actions
    .map((action, at) => ({ action, at }))
    .sort((a, b) => {
      const byPhase = phase[a.action.kind] - phase[b.action.kind];
      if (byPhase !== 0) return byPhase;
      if (a.action.kind === 'pull' && b.action.kind === 'pull') {
        const [ta, sa] = pullKey(a.action);
        const [tb, sb] = pullKey(b.action);
        if (ta !== tb) return ta - tb;
        if (sa !== sb) return sa - sb;
      }
      return a.at - b.at;
    })
    .map(({ action }) => action);
};

const guardDeletions = (
  actions: readonly SyncAction[],
  skipped: readonly SkippedFile[],
  input: PlanInput,
): SyncPlan => {
  const total = input.index.length;
  const isMass = (count: number): boolean =>
    !input.confirmDeletions &&
    count >= input.deletionGuard.minimum &&
    total > 0 &&
    count / total > input.deletionGuard.share;
  const localDeletions = actions.filter((a) => a.kind === 'deleteLocal');
  const remoteDeletions = actions.filter((a) => a.kind === 'deleteRemote');
  const held: HeldDeletions[] = [];
  let kept = actions;
  if (isMass(localDeletions.length)) {
    held.push({
      direction: 'local',
      count: localDeletions.length,
      total,
      paths: localDeletions.map((a) => a.path),
    });
    kept = kept.filter((a) => a.kind !== 'deleteLocal');
  }
  if (isMass(remoteDeletions.length)) {
    held.push({
      direction: 'remote',
      count: remoteDeletions.length,
      total,
      paths: remoteDeletions.map((a) => a.path),
    });
    kept = kept.filter((a) => a.kind !== 'deleteRemote');
  }
  return { actions: kept, held, skipped };
};
