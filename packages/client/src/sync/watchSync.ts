import type { EventStreamHandlers } from '../http/eventStream.js';
import type { TreeWatcher, TreeWatcherEvents } from '../node/treeWatcher.js';
import { WatchScheduler } from './watchScheduler.js';

/** One pass of a watch, as it is reported. */
export type WatchPass<R> =
  | {
      readonly ok: true;
      readonly reasons: readonly string[];
      readonly ms: number;
      readonly report: R;
    }
  | {
      readonly ok: false;
      readonly reasons: readonly string[];
      readonly ms: number;
      readonly error: Error;
    };

/** Something the watch tells its user between passes. */
export type WatchNotice =
  | { readonly kind: 'live' }
  | { readonly kind: 'polling'; readonly error: Error; readonly retryInMs: number }
  | { readonly kind: 'streamRefused'; readonly error: Error }
  | { readonly kind: 'watcherFailed'; readonly error: Error }
  | { readonly kind: 'refusalNotProven'; readonly error: Error };

/** Why a watch ended: asked to stop, or a refusal its owner judged final (`E`). */
export type WatchEnd<E> =
  { readonly reason: 'stopped' } | { readonly reason: 'ended'; readonly end: E };

export interface WatchSyncOptions<R, E> {
  /** One sync pass; throws when it fails (the watch goes on). */
  readonly pass: () => Promise<R>;
  readonly onPass: (pass: WatchPass<R>) => void;
  readonly onNotice: (notice: WatchNotice) => void;
  /** Opens the live event stream (closed when the watch ends); none: polling only. */
  readonly openStream?: (handlers: EventStreamHandlers) => { close(): Promise<void> };
  /** Watches the synced folder; none: only the periodic passes find local changes. */
  readonly watchFolder?: (events: TreeWatcherEvents) => TreeWatcher;
  /** Whether a pass's error is the server refusing this device (to be judged by `onRefused`). */
  readonly isRefusal: (error: unknown) => boolean;
  /**
   * Judges a refusal: a value ends the watch (a proven revocation, say), undefined goes on (the
   * refusal proved nothing). Runs inside the pass, so never beside another one.
   */
  readonly onRefused: (error: Error) => Promise<E | undefined>;
  /** A pass this often while the event stream is down (ms); default 30 s. */
  readonly pollMs?: number;
  /** A pass this often whatever happens, the safety net (ms); default 5 minutes. */
  readonly safetyMs?: number;
  /** Aborted by SIGINT/SIGTERM: the running pass finishes, then the watch ends. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

/**
 * Keeps a folder in sync until stopped: one pass at the start, then a pass whenever the event
 * stream says the device's feeds moved (or it reconnects after a gap), whenever the folder
 * watcher sees a change, every `pollMs` while the stream is down (a dead server, a proxy that
 * buffers) or the folder watcher failed, and every `safetyMs` regardless. Passes never overlap:
 * triggers during a pass give exactly one more. A refusal of the device is handed to
 * `onRefused`, which alone decides whether it ends the watch.
 */
export const watchSync = <R, E>(options: WatchSyncOptions<R, E>): Promise<WatchEnd<E>> => {
  const now = options.now ?? Date.now;
  let ending: WatchEnd<E> | undefined;
  let live = false;
  let everLive = false;
  let watcherFailed = options.watchFolder === undefined;
  let finish: (end: WatchEnd<E>) => void = () => undefined;
  const finished = new Promise<WatchEnd<E>>((resolve) => (finish = resolve));

  const scheduler = new WatchScheduler(async (reasons) => {
    const started = now();
    try {
      const report = await options.pass();
      options.onPass({ ok: true, reasons, ms: now() - started, report });
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (options.isRefusal(error)) {
        const end = await options.onRefused(error);
        if (end !== undefined) {
          stop({ reason: 'ended', end });
          return;
        }
        options.onNotice({ kind: 'refusalNotProven', error });
      }
      options.onPass({ ok: false, reasons, ms: now() - started, error });
    }
  });

  const stream = options.openStream?.({
    onEvent: (event) => {
      if (event.type === 'ready' || event.type === 'feeds') scheduler.trigger(event.type);
    },
    onLive: () => {
      const wasDown = everLive && !live;
      live = true;
      everLive = true;
      options.onNotice({ kind: 'live' });
      // After a gap, catch up even if the resumed stream has nothing to say.
      if (wasDown) scheduler.trigger('reconnected');
    },
    onDown: (error, retryInMs) => {
      live = false;
      options.onNotice({ kind: 'polling', error, retryInMs });
    },
    onRefused: (error) => {
      live = false;
      options.onNotice({ kind: 'streamRefused', error });
      // The passes find out what the refusal means; meanwhile they poll.
      scheduler.trigger('streamRefused');
    },
  });
  const watcher = options.watchFolder?.({
    onChange: () => scheduler.trigger('local'),
    onError: (error) => {
      watcherFailed = true;
      options.onNotice({ kind: 'watcherFailed', error });
    },
  });
  const poll = setInterval(() => {
    if (!live) scheduler.trigger('poll');
    else if (watcherFailed) scheduler.trigger('scan');
  }, options.pollMs ?? 30_000);
  const safety = setInterval(() => scheduler.trigger('timer'), options.safetyMs ?? 300_000);

  function stop(end: WatchEnd<E>): void {
    if (ending !== undefined) return;
    ending = end;
    clearInterval(poll);
    clearInterval(safety);
    options.signal.removeEventListener('abort', onAbort);
    void (async () => {
      await scheduler.stop();
      await Promise.allSettled([stream?.close(), watcher?.close()]);
      finish(end);
    })();
  }
  const onAbort = (): void => stop({ reason: 'stopped' });
  if (options.signal.aborted) onAbort();
  else {
    options.signal.addEventListener('abort', onAbort);
    scheduler.trigger('start');
  }
  return finished;
};
