import { manifestDelta } from '@ratsfach/api-contract';
import {
  CommitteeState,
  firstSync,
  openAnyRecord,
  openEpochKeys,
  TrustView,
  type DeviceKeys,
} from '@ratsfach/crypto';
import type { FileSystem } from '../ports/fileSystem.js';
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
  readVerifiedDocument,
  type DocumentFetch,
  type VerifiedDocument,
} from './readVerifiedDocument.js';

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
}

export interface SyncReport extends ApplyReport {
  /** Documents whose verified head changed in this pass. */
  readonly fetched: number;
  readonly held: readonly HeldDeletions[];
  readonly skipped: readonly SkippedFile[];
  /** Documents that could not be read verified; they stay as they were here. */
  readonly unreadable: readonly { readonly documentId: string; readonly message: string }[];
}

/** The folder a committee's documents live in, below the synced folder. */
export const committeeFolder = (committeeId: string): string => committeeId;

const pathOf = (committeeId: string, read: VerifiedDocument, fallback: string): string =>
  read.metadata === null
    ? fallback
    : [committeeFolder(committeeId), ...read.metadata.folderPath, read.metadata.name].join('/');

/** User ids a committee chain names (to fetch their chains); the fold verifies them later. */
const usersNamedIn = (chain: readonly Uint8Array[]): string[] => {
  const users = new Set<string>();
  for (const bytes of chain) {
    const body = openAnyRecord(bytes).body as { userId?: unknown; signerUserId?: unknown };
    if (typeof body.userId === 'string') users.add(body.userId);
    if (typeof body.signerUserId === 'string') users.add(body.signerUserId);
  }
  return [...users];
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
  let cursor = state.cursor();
  for (;;) {
    const delta = await fetch.api.call(manifestDelta, {
      params: { tenantId: device.tenantId },
      query: cursor === null ? {} : { since: cursor },
    });
    for (const entry of delta.entries) {
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

  const committees = [...changed.keys()].filter((id) => !lost.has(id));
  const committeeChains = new Map<string, readonly Uint8Array[]>();
  const userIds = new Set([device.userId]);
  for (const committeeId of committees) {
    const chain = await options.chains.chain(`committee-${device.tenantId}-${committeeId}`);
    committeeChains.set(committeeId, chain);
    for (const userId of usersNamedIn(chain)) userIds.add(userId);
  }
  const userChains: Record<string, readonly Uint8Array[]> = {};
  for (const userId of [...userIds].sort()) {
    userChains[userId] = await options.chains.chain(`user-${device.tenantId}-${userId}`);
  }
  const trust = TrustView.build({
    rootPin: device.rootPin,
    tenantChain: await options.chains.chain(`tenant-${device.tenantId}`),
    userChains,
  });

  const contents = new Map<string, Uint8Array>();
  const unreadable: { documentId: string; message: string }[] = [];
  // Committees this device may write to, kept across passes (a pass folds only changed ones).
  const writable = new Set<string>(
    JSON.parse(state.setting('writableCommittees') ?? '[]') as string[],
  );
  let fetched = 0;
  for (const committeeId of committees) {
    const committee = CommitteeState.fold(trust, committeeChains.get(committeeId) ?? []);
    const me = committee.members.get(device.userId);
    if (me?.role === 'staff') writable.add(committeeId);
    else writable.delete(committeeId);
    const epochKeys = openEpochKeys(committee, device.keys);
    for (const documentId of changed.get(committeeId) ?? []) {
      try {
        const read = await readVerifiedDocument(fetch, committee, epochKeys, documentId, firstSync);
        if (read.version === 0) continue;
        const known = state.remote().find((d) => d.documentId === documentId);
        const hash = read.plaintext === null ? (known?.hash ?? '') : options.hash(read.plaintext);
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
          size: read.plaintext?.length ?? 0,
          modifiedAt: read.metadata?.modifiedAt ?? 0,
          deleted: read.deleted,
        };
        state.putRemote(remote);
        if (read.plaintext !== null) contents.set(`${documentId}@${read.version}`, read.plaintext);
        fetched += 1;
      } catch (error) {
        unreadable.push({ documentId, message: (error as Error).message });
      }
    }
  }

  for (const committeeId of lost) writable.delete(committeeId);
  state.setSetting('writableCommittees', JSON.stringify([...writable].sort()));
  const known = new Set([...state.remote().map((d) => d.committeeId), ...writable]);
  const scan = await options.fs.scan();
  const decided = plan({
    index: state.index(),
    local: scan.files,
    remote: state.remote(),
    committeeOf: (path) => {
      const top = path.split('/')[0] ?? '';
      return known.has(top) ? top : null;
    },
    writable,
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
      plaintext: async (documentId, version) => {
        const bytes = contents.get(`${documentId}@${version}`);
        if (bytes === undefined)
          throw new Error(`version ${version} of ${documentId} was not fetched in this pass`);
        return bytes;
      },
    },
  });
  state.setSetting('heldDeletions', JSON.stringify(decided.held));
  if (report.failed.length === 0 && unreadable.length === 0) state.setCursor(cursor);
  return { ...report, fetched, held: decided.held, skipped: decided.skipped, unreadable };
};
