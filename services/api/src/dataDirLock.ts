import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, UnavailableError } from '@ratsfach/domain';

/** Names of the lock's files inside the data directory. */
export const lockFileName = 'lock.sqlite';
export const holderFileName = 'lock.json';

/** Who holds a data directory, as the holder wrote it down after taking the lock. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly since: string;
}

/** A second process started on a data directory that a running one holds. */
export class DataDirLockedError extends ConflictError {
  constructor(dataDir: string, holder: LockHolder | null) {
    super(
      'RATSFACH_API_DATA_DIR_LOCKED',
      holder
        ? `${dataDir} is in use by process ${holder.pid} on ${holder.hostname} (since ${holder.since})`
        : `${dataDir} is in use by another process`,
      {
        hint: 'stop the other ratsfach process, or give this one its own RATSFACH_DATA_DIR',
        details: { dataDir, ...(holder ? { pid: holder.pid } : {}) },
      },
    );
  }
}

/** The exclusive lock of a data directory; held until `release()` or the process ends. */
export interface DataDirLock {
  readonly dataDir: string;
  release(): void;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readHolder = (dataDir: string): LockHolder | null => {
  try {
    const holder = JSON.parse(readFileSync(join(dataDir, holderFileName), 'utf8')) as LockHolder;
    // The file of a holder that died is left behind; only a live pid is worth naming.
    return Number.isInteger(holder.pid) && isAlive(holder.pid) ? holder : null;
  } catch {
    return null;
  }
};

/**
 * Takes the exclusive lock of `dataDir`, before anything else touches it (the blob store's
 * start-up cleanup of `.tmp` would otherwise break a running process's uploads). The lock is
 * SQLite's exclusive file lock on `lock.sqlite`, held by an open connection: the kernel drops
 * it when the process ends, however it ends, so there is no stale lock to clean up. The holder's
 * pid goes to `lock.json` for the error a second start prints. Throws DataDirLockedError when
 * another process holds the directory.
 */
/**
 * The connections that hold a lock. The lock lives as long as its connection, and better-sqlite3
 * closes a connection that is garbage-collected: without this set, a caller that dropped the
 * handle (keeping the lock for the life of the process) would lose the lock at the next GC.
 */
const held = new Set<Database.Database>();

export function lockDataDir(dataDir: string, now: Date = new Date()): DataDirLock {
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, lockFileName), { timeout: 0 });
  } catch (error) {
    throw new UnavailableError(
      'RATSFACH_API_DATA_DIR_UNUSABLE',
      `cannot open the lock of ${dataDir}: ${(error as Error).message}`,
      { hint: 'set RATSFACH_DATA_DIR to a directory this user may write', cause: error },
    );
  }
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept after the
    // commit, until the connection closes.
    db.exec(
      'BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT',
    );
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DataDirLockedError(dataDir, readHolder(dataDir));
    }
    throw error;
  }
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: now.toISOString() };
  const tmp = join(dataDir, `${holderFileName}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`);
  renameSync(tmp, join(dataDir, holderFileName));
  held.add(db);
  return {
    dataDir,
    release: () => {
      held.delete(db);
      if (db.open) db.close();
    },
  };
}
