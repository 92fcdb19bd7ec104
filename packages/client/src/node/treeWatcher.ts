import { watch as nodeWatch, type FSWatcher as NodeWatcher } from 'node:fs';
import { watch as chokidarWatch, type FSWatcher as ChokidarWatcher } from 'chokidar';
import { UnavailableError } from '@ratsfach/kernel';
import { SyncErrorCode } from '../sync/syncErrors.js';
import { engineFolder } from './nodeFileSystem.js';

/** What the watcher reports: only a hint that something under `path` changed; rescan to know. */
export interface TreeWatcherEvents {
  /** Tree-relative path (or '' for the root), `/`-separated, after the quiet period. */
  readonly onChange: (paths: readonly string[]) => void;
  /** The watcher gave up (e.g. out of inotify watches): the periodic scan carries on alone. */
  readonly onError: (error: UnavailableError) => void;
}

export interface TreeWatcherOptions {
  /** Changes are reported together after this many quiet ms (editors write in bursts). */
  readonly quietMs?: number;
  /** `chokidar` on Linux (Node's recursive watch loses events there); `native` elsewhere. */
  readonly backend?: 'chokidar' | 'native';
  readonly platform?: NodeJS.Platform;
}

/** A running watcher of the synced folder. */
export interface TreeWatcher {
  /** Resolves once the initial tree is watched. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** The typed error of a watcher that gave up, with the setting to raise where one helps. */
export const watcherError = (cause: unknown): UnavailableError => {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === 'ENOSPC'
      ? 'the system ran out of inotify watches: raise fs.inotify.max_user_watches (sudo sysctl fs.inotify.max_user_watches=524288); until then changes are found by the periodic scan'
      : code === 'EMFILE'
        ? 'too many open files: raise the open-file limit (ulimit -n); until then changes are found by the periodic scan'
        : 'changes are found by the periodic scan until the sync restarts';
  return new UnavailableError(
    SyncErrorCode.watcherFailed,
    `the folder cannot be watched (${code ?? (cause as Error | undefined)?.message ?? 'unknown'})`,
    { hint, cause },
  );
};

/**
 * Watches the synced folder and reports changed paths in batches. Every event is only a hint:
 * the engine rescans (cheap, hashes are cached by size and time) and plans from what it finds,
 * so a lost event costs at most one scan interval, never an edit.
 */
export const watchTree = (
  root: string,
  events: TreeWatcherEvents,
  options: TreeWatcherOptions = {},
): TreeWatcher => {
  const quietMs = options.quietMs ?? 150;
  const platform = options.platform ?? process.platform;
  const backend = options.backend ?? (platform === 'linux' ? 'chokidar' : 'native');
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const relative = (absolute: string): string | null => {
    if (
      absolute !== root &&
      !absolute.startsWith(`${root}/`) &&
      !absolute.startsWith(`${root}\\`)
    ) {
      return null;
    }
    const path = absolute.slice(root.length + 1).replaceAll('\\', '/');
    if (path === engineFolder || path.startsWith(`${engineFolder}/`)) return null;
    return path;
  };
  const note = (path: string | null): void => {
    if (path === null || closed) return;
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...pending].sort();
      pending.clear();
      events.onChange(paths);
    }, quietMs);
  };
  let failed = false;
  const fail = (cause: unknown): void => {
    if (failed || closed) return;
    failed = true;
    events.onError(watcherError(cause));
  };

  if (backend === 'chokidar') {
    const watcher: ChokidarWatcher = chokidarWatch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path: string) => relative(path) === null && path !== root,
    });
    watcher.on('all', (_event, path) => note(relative(path)));
    watcher.on('error', fail);
    const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return {
      ready,
      close: async () => {
        closed = true;
        clearTimeout(timer);
        await watcher.close();
      },
    };
  }
  let watcher: NodeWatcher | undefined;
  try {
    watcher = nodeWatch(root, { recursive: true }, (_event, name) => {
      note(name === null ? '' : relative(`${root}/${name.toString()}`));
    });
    watcher.on('error', fail);
  } catch (error) {
    fail(error);
  }
  return {
    ready: Promise.resolve(),
    close: async () => {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
};
