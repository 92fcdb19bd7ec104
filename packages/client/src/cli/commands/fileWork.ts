import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { cryptoReady } from '@ratsfach/crypto';
import { ConflictError, ForbiddenError, NotFoundError } from '@ratsfach/kernel';
import { ApiClient } from '../../http/apiClient.js';
import { logInDevice } from '../../http/deviceLogin.js';
import { recordsChainSource } from '../../http/recordsChainSource.js';
import type { DocumentReader } from '../../files/documentView.js';
import { FilesErrorCode } from '../../files/filesErrorCode.js';
import type { SqliteLocalState } from '../../node/sqliteLocalState.js';
import { NodeFileSystem, plaintextHash } from '../../node/nodeFileSystem.js';
import { defaultDeletionGuard } from '../../sync/plan.js';
import { SendSpool } from '../../sync/sendSpool.js';
import { syncAndSend, type SyncAndSendReport } from '../../sync/sendSync.js';
import { openSyncState, SyncSetting } from '../../sync/syncStateFile.js';
import type { CommandRun } from '../commandAction.js';
import { readPassphrase } from '../passphrase.js';
import { openProfileKeys, ProfileKind, readProfile } from '../profile.js';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));

/** A member device opened for work on its synced files: logged in, with its local state. */
export interface FileWork extends DocumentReader {
  readonly state: SqliteLocalState;
  /** The folder `ratsfach sync` keeps (absolute); null before the first sync. */
  readonly folder: string | null;
  /** One `ratsfach sync` of the folder: pull verified, plan, send what changed here. */
  sync(): Promise<SyncAndSendReport>;
}

/** A synced document a path names, as the local state knows it. */
export interface SyncedFile {
  readonly documentId: string;
  readonly committeeId: string;
  /** Relative to the synced folder, `/`-separated. */
  readonly path: string;
  /** The absolute path on disk. */
  readonly file: string;
  /** The version written here (undefined when the file is not in the folder: deleted). */
  readonly indexed: { readonly version: number; readonly hash: string } | undefined;
  /** The verified head as the last sync saw it deleted. */
  readonly deleted: boolean;
}

/** Opens the profile's keys, logs in and opens the local state (the caller closes it). */
export async function openFileWork(run: CommandRun, now: () => Date): Promise<FileWork> {
  await cryptoReady();
  const profile = await readProfile(run.profileDir, ProfileKind.member);
  const keys = await openProfileKeys(
    run.profileDir,
    await readPassphrase(run.devicePassphrase, 'device passphrase'),
  );
  const { api, token } = await logInDevice(new ApiClient({ baseUrl: profile.serverUrl }), {
    tenantId: profile.tenantId,
    deviceId: profile.deviceId,
    signing: keys.signing,
  });
  const state = openSyncState(run.profileDir);
  const folder = state.setting(SyncSetting.folder) ?? null;
  const fetch = { api, baseUrl: profile.serverUrl, token, tenantId: profile.tenantId };
  const chains = recordsChainSource(api, profile.tenantId);
  const device = {
    tenantId: profile.tenantId,
    userId: profile.userId,
    deviceId: profile.deviceId,
    keys,
    rootPin: fromHex(profile.rootFingerprint.slice(0, 40)),
  };
  return {
    fetch,
    chains,
    device,
    state,
    folder,
    sync: async () => {
      const root = folder as string;
      const fs = new NodeFileSystem(root);
      await fs.recover();
      return syncAndSend({
        fetch,
        chains,
        device: { ...device, name: state.setting('deviceName') ?? profile.deviceId },
        state,
        fs,
        hash: plaintextHash,
        now: now(),
        deletionGuard: defaultDeletionGuard,
        confirmDeletions: false,
        root,
        spool: new SendSpool(join(run.profileDir, 'outgoing')),
      });
    },
  };
}

const unknownFile = (file: string, why: string): NotFoundError =>
  new NotFoundError(FilesErrorCode.unknownFile, `${file} ${why}`, {
    hint: 'Name a file inside the folder `ratsfach sync <dir>` keeps (ratsfach status shows it), and sync first if it is new.',
    details: { file },
  });

/**
 * The synced document `file` names (a path inside the synced folder, as the shell gives it):
 * the file written here, or a document deleted at that path. Nothing here is verified; the
 * commands read the document's chains verified afterwards.
 */
export function syncedFile(work: FileWork, file: string): SyncedFile {
  if (work.folder === null) throw unknownFile(file, 'is not synced: no folder was synced yet');
  const absolute = resolve(file);
  const path = relative(work.folder, absolute).split(sep).join('/');
  if (
    path === '' ||
    path.startsWith('../') ||
    path === '..' ||
    resolve(work.folder, path) !== absolute
  ) {
    throw unknownFile(file, `is not inside the synced folder ${work.folder}`);
  }
  const entry = work.state.indexEntryAt(path);
  if (entry !== undefined) {
    return {
      documentId: entry.documentId,
      committeeId: entry.committeeId,
      path,
      file: absolute,
      indexed: { version: entry.version, hash: entry.hash },
      deleted: work.state.remote().find((d) => d.documentId === entry.documentId)?.deleted ?? false,
    };
  }
  const gone = work.state.remote().filter((d) => d.path === path && d.deleted);
  const remote = gone[gone.length - 1];
  if (remote === undefined) throw unknownFile(file, 'is no synced document');
  return {
    documentId: remote.documentId,
    committeeId: remote.committeeId,
    path,
    file: absolute,
    indexed: undefined,
    deleted: true,
  };
}

/** Refuses a device whose person is no co-signed staff member of the committee. */
export function requireStaff(
  view: { readonly committee: { readonly committeeId: string; staff(): readonly string[] } },
  userId: string,
  what: string,
): void {
  if (view.committee.staff().includes(userId)) return;
  throw new ForbiddenError(
    FilesErrorCode.notStaff,
    `only staff of ${view.committee.committeeId} ${what}; ${userId} reads it`,
    {
      hint: `Ask a staff member of ${view.committee.committeeId} to do it; you can see the versions with ratsfach history <file>.`,
      details: { committeeId: view.committee.committeeId },
    },
  );
}

/**
 * Refuses when the file here is not exactly the verified head: an edit not sent yet (it would
 * be lost or turned into a conflict) or a head this device has not synced.
 */
export async function requireUnchanged(target: SyncedFile, headVersion: number): Promise<void> {
  let hash: string | null;
  try {
    hash = plaintextHash(await readFile(target.file));
  } catch {
    hash = null;
  }
  if (
    target.indexed !== undefined &&
    target.indexed.version === headVersion &&
    hash === target.indexed.hash
  ) {
    return;
  }
  throw new ConflictError(
    FilesErrorCode.localChanges,
    target.indexed === undefined || hash === null
      ? `${target.path} is not in the folder as synced`
      : target.indexed.version !== headVersion
        ? `${target.path} here is version ${target.indexed.version}, the newest is ${headVersion}`
        : `${target.path} has changes here that were not sent`,
    {
      hint: 'Run ratsfach sync <dir> first (it sends your edits and fetches the newest), then try again; nothing was changed.',
      details: { path: target.path },
    },
  );
}
