import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Opens a directory and fsyncs it, so the entries made in it so far survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface DirState {
  /** The sync running now; it may have started before a caller's entry was made. */
  running: Promise<void>;
  /** The sync that starts once `running` ends; it covers every caller that arrived meanwhile. */
  next: Promise<void> | undefined;
}

/**
 * Coalesces directory fsyncs: a caller's sync request is served by the first fsync of that
 * directory that *starts* after the request (an fsync covers every entry made before it
 * starts). Callers arriving while a sync runs share the one queued behind it, so N concurrent
 * puts into one directory cost at most two fsyncs instead of N. Idle directories are
 * forgotten, so memory stays bounded by the directories being synced right now.
 */
export class DirSyncQueue {
  readonly #dirs = new Map<string, DirState>();
  readonly #sync: (dir: string) => Promise<void>;

  constructor(sync: (dir: string) => Promise<void> = fsyncDir) {
    this.#sync = sync;
  }

  /** Resolves once an fsync of `dir` that started after this call has completed. */
  sync(dir: string): Promise<void> {
    const state = this.#dirs.get(dir);
    if (state === undefined) {
      const running = this.#start(dir);
      this.#dirs.set(dir, { running, next: undefined });
      return running;
    }
    if (state.next === undefined) {
      // Runs whether the current sync succeeded or failed: the callers waiting on it need
      // their own fsync either way.
      state.next = state.running.then(
        () => this.#promote(dir),
        () => this.#promote(dir),
      );
    }
    return state.next;
  }

  #start(dir: string): Promise<void> {
    const p = this.#sync(dir).finally(() => {
      const state = this.#dirs.get(dir);
      if (state !== undefined && state.running === p && state.next === undefined) {
        this.#dirs.delete(dir);
      }
    });
    return p;
  }

  #promote(dir: string): Promise<void> {
    const running = this.#start(dir);
    const state = this.#dirs.get(dir);
    if (state !== undefined) {
      state.running = running;
      state.next = undefined;
    } else {
      this.#dirs.set(dir, { running, next: undefined });
    }
    return running;
  }
}
