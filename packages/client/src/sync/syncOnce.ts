import { manifestDelta } from '@ratsfach/api-contract';
import {
  ChainError,
  CommitteeState,
  CryptoErrorCode,
  openAnyRecord,
  KeyListError,
  openEpochKeys,
  TrustView,
  type DeviceKeys,
  type JudgingFloor,
  type SeenHeads,
} from '@ratsfach/crypto';
import { isRatsfachError, streamName, StreamKind } from '@ratsfach/kernel';
import type { FileSystem, StagedFile } from '../ports/fileSystem.js';
import type { LocalState } from '../ports/localState.js';
import { applyPlan, type ApplyReport } from './applyPlan.js';
import {
  plan,
  type DeletionGuard,
  type HeldDeletions,
  type RemoteDocument,
  type SkippedFile,
} from './plan.js';
import {
  readVerifiedDocumentInto,
  type DocumentFetch,
  type VerifiedDocument,
} from './readVerifiedDocument.js';
import { serverWithheldError } from './syncErrors.js';
import { fetchTrustChains } from './trustChains.js';

/**
 * Where the signed records of the tenant, user and committee chains come from (the records
 * route; in tests, the log). Never trusted: every chain is verified from the pinned root.
 */
export interface ChainSource {
  chain(stream: string): Promise<readonly Uint8Array[]>;
}

export interface SyncDevice {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly keys: DeviceKeys;
  /** The root pin from the enrolment code (20 bytes). */
  readonly rootPin: Uint8Array;
  readonly name: string;
}

export interface SyncOnceOptions {
  readonly fetch: DocumentFetch;
  readonly chains: ChainSource;
  readonly device: SyncDevice;
  readonly state: LocalState;
  readonly fs: FileSystem;
  readonly hash: (bytes: Uint8Array) => string;
  readonly now: Date;
  readonly deletionGuard: DeletionGuard;
  readonly confirmDeletions: boolean;
  /**
   * Documents to read verified in this pass even if the manifest does not name them (the
   * sender's conflicts: a head that moved on, which the projector may not show yet).
   */
  readonly recheck?: readonly { readonly committeeId: string; readonly documentId: string }[];
}

export interface SyncReport extends ApplyReport {
  /** Documents whose verified head changed in this pass. */
  readonly fetched: number;
  readonly held: readonly HeldDeletions[];
  readonly skipped: readonly SkippedFile[];
  /** Committees the verified fold of this pass shows this device's person a member of. */
  readonly readable: readonly string[];
  /** Committees this device's person left, as the manifest of this pass says. */
  readonly lost: readonly string[];
  /** Documents that could not be read verified; they stay as they were here. */
  readonly unreadable: readonly {
    readonly documentId: string;
    readonly code: string;
    readonly message: string;
  }[];
}

/** The folder a committee's documents live in, below the synced folder. */
export const committeeFolder = (committeeId: string): string => committeeId;

const pathOf = (
  committeeId: string,
  read: Pick<VerifiedDocument, 'metadata'>,
  fallback: string,
): string =>
  read.metadata === null
    ? fallback
    : [committeeFolder(committeeId), ...read.metadata.folderPath, read.metadata.name].join('/');

/** User ids a committee chain names (to fetch their chains); the fold verifies them later. */
export const usersNamedIn = (chain: readonly Uint8Array[]): string[] => {
  const users = new Set<string>();
  for (const bytes of chain) {
    const body = openAnyRecord(bytes).body as { userId?: unknown; signerUserId?: unknown };
    if (typeof body.userId === 'string') users.add(body.userId);
    if (typeof body.signerUserId === 'string') users.add(body.signerUserId);
  }
  return [...users];
};

/** The committees `ratsfach committees --select` keeps (null: every committee it can read). */
export const selectedCommittees = (
  state: Pick<LocalState, 'setting'>,
): ReadonlySet<string> | null => {
  const text = state.setting('selectedCommittees');
  return text === undefined ? null : new Set(JSON.parse(text) as string[]);
};

/**
 * Refuses `chain` of `stream` when it is shorter than the head this device saw (a rollback).
 * Checked before folding as well as on acceptance: a truncated tenant chain would otherwise fail
 * the trust fold as an untrusted key and hide the rollback. Every path that folds chains from
 * the server (the sync pass, the key work, confirmations) checks it.
 */
export const refuseRollback = (
  stream: string,
  chain: readonly Uint8Array[],
  seen: SeenHeads,
): readonly Uint8Array[] => {
  const saw = seen.head(stream)?.length ?? 0;
  if (chain.length < saw) {
    throw new ChainError(
      CryptoErrorCode.rollback,
      `${stream}: offered ${chain.length} records, this device already saw ${saw}`,
      {
        hint: 'The server replayed an older head (rollback); keep the newer state.',
        details: { stream, offered: chain.length, seen: saw },
      },
    );
  }
  return chain;
};

/**
 * One pass of the sync: asks the manifest what changed, folds the trust chains from the pinned
 * root and the committees this device's user may read, reads every changed document verified
 * and decrypted, plans against the folder and the index, and applies the plan (outgoing changes
 * go to the queue). The cursor moves only after the plan was applied, so a crash repeats the
 * pass instead of skipping a change.
 */
export const syncOnce = async (options: SyncOnceOptions): Promise<SyncReport> => {
  const { fetch, state, device } = options;
  const changed = new Map<string, Set<string>>();
  const lost = new Set<string>();
  // The fewest records each stream must have: the manifest named its record at `revision`.
  const announced = new Map<string, number>();
  let cursor = state.cursor();
  for (;;) {
    const delta = await fetch.api.call(manifestDelta, {
      params: { tenantId: device.tenantId },
      query: cursor === null ? {} : { since: cursor },
    });
    for (const entry of delta.entries) {
      announced.set(entry.stream, Math.max(announced.get(entry.stream) ?? 0, entry.revision + 1));
      if (entry.committeeId === null) continue;
      if (entry.feed === 'user' && entry.type === 'Left' && entry.userId === device.userId) {
        lost.add(entry.committeeId);
      }
      if (entry.feed === 'user' && entry.type === 'Joined') lost.delete(entry.committeeId);
      const docs = changed.get(entry.committeeId) ?? new Set<string>();
      if (entry.documentId !== null) docs.add(entry.documentId);
      changed.set(entry.committeeId, docs);
    }
    cursor = delta.cursor;
    if (!delta.hasMore) break;
  }
  for (const { committeeId, documentId } of options.recheck ?? []) {
    changed.set(committeeId, (changed.get(committeeId) ?? new Set<string>()).add(documentId));
  }

  const seen = state.seenHeads();
  /**
   * A chain from the source, refused when it is shorter than the head this device saw or lacks
   * a record the manifest announced.
   */
  const chainOf = async (stream: string): Promise<readonly Uint8Array[]> => {
    const chain = refuseRollback(stream, await options.chains.chain(stream), seen);
    if (chain.length < (announced.get(stream) ?? 0)) {
      throw serverWithheldError(
        `record ${chain.length} of ${stream}, which the manifest announced`,
      );
    }
    return chain;
  };
  const userStream = (userId: string) => streamName(StreamKind.user, device.tenantId, userId);
  const committeeStream = (committeeId: string) =>
    streamName(StreamKind.committee, device.tenantId, committeeId);

  // Committees the person deselected are neither read nor planned (`ratsfach committees`).
  const selected = selectedCommittees(state);
  const kept = (committeeId: string) => selected === null || selected.has(committeeId);
  const committees = [...changed.keys()].filter((id) => !lost.has(id) && kept(id));
  const committeeChains = new Map<string, readonly Uint8Array[]>();
  const userIds = new Set([device.userId]);
  // A user chain holds device confirmations signed by staff of other users, whose chains the
  // trust view needs to judge them: fold again every user a pass folded before, also on a pass
  // where no committee (which names them) changed.
  const userPrefix = `${StreamKind.user}-${device.tenantId}-`;
  for (const { stream } of seen.heads()) {
    if (stream.startsWith(userPrefix)) userIds.add(stream.slice(userPrefix.length));
  }
  for (const committeeId of committees) {
    const chain = await chainOf(committeeStream(committeeId));
    committeeChains.set(committeeId, chain);
    for (const userId of usersNamedIn(chain)) userIds.add(userId);
  }
  const trust = TrustView.build({
    rootPin: device.rootPin,
    ...(await fetchTrustChains(chainOf, device.tenantId, userIds)),
  });
  // Every chain must extend what this device saw of it: a rollback or a fork stops the pass
  // before anything is written.
  seen.accept(streamName(StreamKind.tenant, device.tenantId), trust.tenantHashes);
  for (const [userId, hashes] of trust.userHashes) seen.accept(userStream(userId), hashes);
  const floors = JSON.parse(state.setting('judgingFloors') ?? '{}') as Record<string, JudgingFloor>;

  // Verified plaintext of this pass, staged in the tree's engine folder until the plan places it.
  const contents = new Map<string, StagedFile>();
  try {
    const unreadable: { documentId: string; code: string; message: string }[] = [];
    // Committees this device may write to, kept across passes (a pass folds only changed ones).
    const writable = new Set<string>(
      JSON.parse(state.setting('writableCommittees') ?? '[]') as string[],
    );
    // Every committee is folded and its head checked before any document is read, so a rolled
    // back or forked committee chain stops the pass before anything local changes.
    const folded = committees.map((committeeId) => {
      const stream = committeeStream(committeeId);
      const floor = floors[committeeId] ?? null;
      const committee = CommitteeState.fold(trust, committeeChains.get(committeeId) ?? [], {
        accepted: seen.head(stream)?.length ?? 0,
        floor,
      });
      seen.accept(stream, committee.hashes);
      return { committeeId, committee, floor };
    });
    const remoteById = new Map(state.remote().map((d) => [d.documentId, d]));
    const complete = new Set<string>();
    const readable: string[] = [];
    let fetched = 0;
    for (const { committeeId, committee, floor } of folded) {
      const me = committee.members.get(device.userId);
      if (me !== undefined) readable.push(committeeId);
      if (me?.role === 'staff') writable.add(committeeId);
      else writable.delete(committeeId);
      // A committee without a key for this device yet (no epoch, or not wrapped for it): its
      // documents stay unread (each with the typed error) and the rest of the pass goes on.
      let epochKeys: Map<number, Uint8Array>;
      try {
        epochKeys = openEpochKeys(committee, device.keys);
      } catch (error) {
        if (!(error instanceof KeyListError)) throw error;
        epochKeys = new Map();
      }
      let allRead = true;
      for (const documentId of changed.get(committeeId) ?? []) {
        try {
          const atLeast =
            announced.get(streamName(StreamKind.document, device.tenantId, documentId)) ?? 0;
          const read = await readVerifiedDocumentInto(
            fetch,
            committee,
            epochKeys,
            documentId,
            { seen, floor, atLeast },
            () => options.fs.stage(),
          );
          if (read.content !== null) contents.set(`${documentId}@${read.version}`, read.content);
          if (read.version === 0) continue;
          const known = remoteById.get(documentId);
          const hash = read.content === null ? (known?.hash ?? '') : read.content.hash;
          const remote: RemoteDocument = {
            documentId,
            committeeId,
            path: pathOf(
              committeeId,
              read,
              known?.path ?? `${committeeFolder(committeeId)}/${documentId}`,
            ),
            version: read.version,
            hash,
            size: read.content?.size ?? 0,
            modifiedAt: read.metadata?.modifiedAt ?? 0,
            deleted: read.deleted,
          };
          state.putRemote(remote);
          remoteById.set(documentId, remote);
          fetched += 1;
        } catch (error) {
          allRead = false;
          unreadable.push({
            documentId,
            code: isRatsfachError(error) ? error.code : 'RATSFACH_SYNC_UNEXPECTED',
            message: (error as Error).message,
          });
        }
      }
      if (allRead) complete.add(committeeId);
    }
    // What was verified in this pass is kept: the next pass refuses anything older.
    state.saveSeenHeads(seen);

    for (const committeeId of lost) writable.delete(committeeId);
    state.setSetting('writableCommittees', JSON.stringify([...writable].sort()));
    const known = new Set([...state.remote().map((d) => d.committeeId), ...writable].filter(kept));
    const scan = await options.fs.scan();
    const decided = plan({
      index: state.index().filter((e) => kept(e.committeeId)),
      local: scan.files,
      remote: state.remote().filter((d) => kept(d.committeeId)),
      committeeOf: (path) => {
        const top = path.split('/')[0] ?? '';
        return known.has(top) ? top : null;
      },
      writable: new Set([...writable].filter(kept)),
      lostCommittees: lost,
      deviceName: device.name,
      now: options.now,
      deletionGuard: options.deletionGuard,
      confirmDeletions: options.confirmDeletions,
    });
    const report = await applyPlan(decided, {
      fs: options.fs,
      state,
      hash: options.hash,
      content: {
        staged: async (documentId, version) => {
          const staged = contents.get(`${documentId}@${version}`);
          if (staged === undefined)
            throw new Error(`version ${version} of ${documentId} was not fetched in this pass`);
          return staged;
        },
      },
    });
    state.setSetting('heldDeletions', JSON.stringify(decided.held));
    // A committee whose documents were all read verified is judged from this view's floor next.
    for (const committeeId of complete) floors[committeeId] = trust.judgingFloor(committeeId);
    state.setSetting('judgingFloors', JSON.stringify(floors));
    if (report.failed.length === 0 && unreadable.length === 0) state.setCursor(cursor);
    return {
      ...report,
      fetched,
      held: decided.held,
      skipped: decided.skipped,
      readable,
      lost: [...lost].sort(),
      unreadable,
    };
  } finally {
    // What the plan did not place (held, skipped, failed) leaves no plaintext behind.
    for (const staged of contents.values()) await staged.discard();
  }
};
