import { createParser } from 'eventsource-parser';
import { ApiProblemError, parseProblem } from './apiClient.js';

/** One server-sent event as the stream delivered it. */
export interface StreamEvent {
  /** The `event:` name (`message` when the server sent none). */
  readonly type: string;
  readonly data: string;
  /** The `id:` of the event, if it had one (the stream resumes after it). */
  readonly id: string | undefined;
}

/** What the event stream tells its owner. */
export interface EventStreamHandlers {
  readonly onEvent: (event: StreamEvent) => void;
  /** The stream is open and the server's first bytes arrived (not only its headers). */
  readonly onLive: () => void;
  /** The stream is down (refused, ended, silent too long); it reconnects after `retryInMs`. */
  readonly onDown: (error: Error, retryInMs: number) => void;
  /**
   * The server refused the device for good (403): the stream stops and does not reconnect.
   * A refusal proves nothing by itself; the owner decides what it means.
   */
  readonly onRefused: (problem: ApiProblemError) => void;
}

export interface EventStreamOptions extends EventStreamHandlers {
  /** The stream's full URL. */
  readonly url: string;
  /** The bearer token to send; called before every connection. */
  readonly token: () => Promise<string>;
  /** Called after a 401: log in again (the next connection asks `token` anew). */
  readonly refreshToken: () => Promise<void>;
  /** The server's heartbeat period (ms); silence for 2.5 times this long ends the connection. */
  readonly heartbeatMs: number;
  /** The id to resume after on the first connection (`Last-Event-ID`). */
  readonly lastEventId?: string | undefined;
  /** First reconnect delay (ms), doubled per failure up to `maxDelayMs`, with full jitter. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A number in [0, 1) (tests pass a fixed one). */
  readonly random?: () => number;
  /** `fetch` (the platform's by default; a browser's works the same). */
  readonly fetch?: typeof globalThis.fetch;
}

/** Stable codes of the event stream's own errors. */
export const EventStreamErrorCode = {
  /** The connection failed, ended or fell silent: it reconnects. */
  down: 'RATSFACH_CLIENT_EVENT_STREAM_DOWN',
} as const;

/** Why a connection ended; the stream reconnects after it. */
export class EventStreamDownError extends Error {
  readonly code = EventStreamErrorCode.down;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStreamDownError';
  }
}

/**
 * A reconnecting server-sent event stream on `fetch` and `eventsource-parser` (no WHATWG
 * `EventSource`: it cannot send `Authorization` and never notices a half-open connection).
 * It resumes with `Last-Event-ID`, ends a connection that hears nothing for 2.5 heartbeats
 * (a laptop waking, a NAT that forgot it, a proxy that buffers), logs in again on 401, waits
 * out 429 and 5xx with exponential backoff and full jitter, and stops only on `close()` or a 403.
 */
export class EventStream {
  readonly #options: EventStreamOptions;
  #lastEventId: string | undefined;
  #closed = false;
  #connection: AbortController | undefined;
  #wake: (() => void) | undefined;
  #failures = 0;
  #refreshedSinceLive = false;
  #retryAfterMs: number | undefined;
  readonly done: Promise<void>;

  constructor(options: EventStreamOptions) {
    this.#options = options;
    this.#lastEventId = options.lastEventId;
    this.done = this.#run();
  }

  /** The id of the last event received, to resume after. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Ends the stream for good; `done` resolves once the connection is closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#connection?.abort();
    this.#wake?.();
    await this.done;
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      this.#retryAfterMs = undefined;
      let delay: number;
      try {
        await this.#connect();
        // The server ended the stream (a restart, `closing`): come back soon.
        throw new EventStreamDownError('the server ended the event stream');
      } catch (error) {
        if (this.#closed) return;
        let cause = error;
        if (error instanceof ApiProblemError && error.status === 401) {
          // An expired token: log in again; a second 401 in a row waits like any failure.
          try {
            await this.#options.refreshToken();
            cause = undefined;
          } catch (refreshError) {
            cause = refreshError;
          }
          // A `close()` during the refresh found no connection and no sleep to end: end here,
          // not after a full backoff delay with the timer holding the process.
          if (this.#closed) return;
        }
        if (cause instanceof ApiProblemError && cause.status === 403) {
          this.#options.onRefused(cause);
          return;
        }
        if (cause === undefined && !this.#refreshedSinceLive) {
          this.#refreshedSinceLive = true;
          continue;
        }
        delay = Math.max(this.#retryAfterMs ?? 0, this.#backoff());
        this.#options.onDown(asDownError(cause ?? error), delay);
      }
      await this.#sleep(delay);
    }
  }

  #backoff(): number {
    const min = this.#options.minDelayMs ?? 1_000;
    const max = this.#options.maxDelayMs ?? 60_000;
    const ceiling = Math.min(max, min * 2 ** this.#failures);
    this.#failures += 1;
    const random = this.#options.random ?? Math.random;
    // Full jitter, never below a floor, so a restarted server is not hit by every device at once.
    return Math.round(min / 2 + random() * (ceiling - min / 2));
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  async #connect(): Promise<void> {
    const options = this.#options;
    const controller = new AbortController();
    this.#connection = controller;
    const idleMs = options.heartbeatMs * 2.5;
    let idle: NodeJS.Timeout | undefined;
    let silent = false;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        silent = true;
        controller.abort();
      }, idleMs);
    };
    arm();
    try {
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        authorization: `Bearer ${await options.token()}`,
        'cache-control': 'no-store',
      };
      if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
      const fetchImpl = options.fetch ?? globalThis.fetch;
      const response = await fetchImpl(options.url, { headers, signal: controller.signal });
      if (response.status !== 200) {
        const text = await response.text();
        const retry = Number(response.headers.get('retry-after') ?? 'NaN');
        if (Number.isFinite(retry)) this.#retryAfterMs = retry * 1000;
        throw new ApiProblemError(parseProblem(response.status, text));
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || response.body === null) {
        await response.body?.cancel();
        throw new EventStreamDownError(`the server answered ${type || 'no content type'}`);
      }
      let live = false;
      const becomeLive = (): void => {
        if (live) return;
        live = true;
        this.#failures = 0;
        this.#refreshedSinceLive = false;
        options.onLive();
      };
      const parser = createParser({
        onEvent: (message) => {
          becomeLive();
          if (message.id !== undefined) this.#lastEventId = message.id;
          options.onEvent({ type: message.event ?? 'message', data: message.data, id: message.id });
        },
        onRetry: becomeLive,
        onComment: becomeLive,
      });
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
        if (this.#closed) return;
      }
    } catch (error) {
      if (silent) {
        throw new EventStreamDownError(
          `no byte for ${idleMs} ms (heartbeats are every ${options.heartbeatMs} ms)`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(idle);
      controller.abort();
    }
  }
}

const asDownError = (error: unknown): Error =>
  error instanceof Error ? error : new EventStreamDownError(String(error));
