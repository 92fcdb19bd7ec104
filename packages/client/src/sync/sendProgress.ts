import type { SendProgress } from './sendQueue.js';

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/**
 * A progress line for long uploads on a terminal: `sending <path>  37 %  96.0/256.0 MiB
 * 85.2 MiB/s  ETA 2 s`, rewritten in place (carriage return) at most every `everyMs`, and ended
 * with a newline by `end()`. The rate is taken since the upload of that file started in this
 * run (parts the service already had count as done, not as speed).
 */
export const sendProgressLine = (
  write: (text: string) => void,
  clock: () => number,
  everyMs = 250,
) => {
  let shown = false;
  let lastAt = -Infinity;
  let current: { path: string; at: number; done: number } | undefined;
  return {
    update(progress: SendProgress): void {
      const now = clock();
      if (current?.path !== progress.path) {
        current = { path: progress.path, at: now, done: progress.done };
        lastAt = -Infinity;
      }
      const finished = progress.done >= progress.size;
      if (!finished && now - lastAt < everyMs) return;
      lastAt = now;
      const seconds = (now - current.at) / 1000;
      const rate = seconds > 0 ? (progress.done - current.done) / seconds : 0;
      const percent = progress.size === 0 ? 100 : Math.floor((progress.done / progress.size) * 100);
      const eta =
        rate > 0 && !finished ? `  ETA ${Math.ceil((progress.size - progress.done) / rate)} s` : '';
      write(
        `\rsending ${progress.path}  ${percent} %  ${mib(progress.done)}/${mib(progress.size)} MiB  ${mib(rate)} MiB/s${eta}\x1b[K`,
      );
      shown = true;
    },
    end(): void {
      if (shown) write('\n');
      shown = false;
    },
  };
};
