import type { ServerResponse } from 'node:http';
import { PushEventType } from '@ratsfach/api-contract';

export interface SseConnectionOptions {
  /** A stream whose socket stays full this long is dropped (ms). */
  readonly stallMs: number;
  /** Called once when the stream ends, for whatever reason. */
  readonly onEnd: () => void;
}

/**
 * One server-sent event stream on a hijacked response. Every write is fire-and-forget and never
 * awaited: while the socket's buffer is full (`writableNeedDrain`), notices are coalesced into the
 * newest position and written on `drain`; a stream that stays full for `stallMs` is destroyed,
 * so a client that does not read costs a bounded buffer and is never waited for.
 */
export class SseConnection {
  readonly #res: ServerResponse;
  readonly #options: SseConnectionOptions;
  /** The newest position not yet written, or null. */
  #pending: bigint | null = null;
  #stallTimer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(res: ServerResponse, options: SseConnectionOptions) {
    this.#res = res;
    this.#options = options;
    res.on('drain', () => {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
      this.#flush();
    });
    res.on('close', () => this.#end());
    res.on('error', () => this.#end());
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Sends `event` with `position` as its id (coalesced with any notice still waiting). */
  send(event: string, position: bigint | null): void {
    if (this.#ended) return;
    if (event === PushEventType.feeds && position !== null) {
      if (this.#pending === null || position > this.#pending) this.#pending = position;
      this.#flush();
      return;
    }
    this.#write(frame(event, position));
  }

  /** A comment line that keeps proxies from closing an idle stream. */
  heartbeat(): void {
    if (this.#ended) return;
    if (this.#res.writableNeedDrain) {
      this.#stalled();
      return;
    }
    this.#res.write(': hb\n\n');
  }

  /** Says goodbye and ends the stream (shutdown). */
  close(): void {
    if (this.#ended) return;
    this.#res.end(frame(PushEventType.closing, null));
    this.#end();
  }

  #flush(): void {
    if (this.#pending === null || this.#ended) return;
    if (this.#res.writableNeedDrain) {
      this.#stalled();
      return;
    }
    const position = this.#pending;
    this.#pending = null;
    this.#write(frame(PushEventType.feeds, position));
  }

  #write(text: string): void {
    this.#res.write(text);
    if (this.#res.writableNeedDrain) this.#stalled();
  }

  #stalled(): void {
    this.#stallTimer ??= setTimeout(() => {
      this.#res.destroy();
      this.#end();
    }, this.#options.stallMs);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#stallTimer);
    this.#options.onEnd();
  }
}

/** One event: `id` (a log position), `event` and a JSON `data` line naming the position. */
export function frame(event: string, position: bigint | null): string {
  const at = (position ?? 0n).toString();
  return `id: ${at}\nevent: ${event}\ndata: ${JSON.stringify({ position: at })}\n\n`;
}
