import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteLocalState } from '../node/sqliteLocalState.js';

/** The sync engine's state file inside a device profile directory. */
export const syncStateFile = 'sync-state.sqlite';

/** Opens (creating) the sync state of the profile in `dir`; the caller closes it. */
export const openSyncState = (dir: string): SqliteLocalState => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new SqliteLocalState(join(dir, syncStateFile));
};

/** Setting keys the engine and the commands share. */
export const SyncSetting = {
  folder: 'folder',
  lastSync: 'lastSync',
  heldDeletions: 'heldDeletions',
  selectedCommittees: 'selectedCommittees',
} as const;
