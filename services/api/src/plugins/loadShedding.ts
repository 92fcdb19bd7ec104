import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { ApiError } from '../apiError.js';

/** When the process sheds load: 503 with Retry-After instead of queueing more work. */
export interface LoadSheddingOptions {
  /** Mean event-loop delay over a sample above which requests are refused (ms; 0: off). */
  readonly maxEventLoopDelayMs: number;
  /** Event-loop utilisation (0 to 1) over a sample above which requests are refused (0: off). */
  readonly maxEventLoopUtilization: number;
  /** How often the process measures itself (ms, default 1,000). */
  readonly sampleIntervalMs?: number;
  /** Seconds a refused client is told to wait (default 5). */
  readonly retryAfterSeconds?: number;
}

/**
 * Load shedding through `@fastify/under-pressure`: while the event loop is saturated, every
 * request but the liveness probe is answered at once with problem+json 503
 * `RATSFACH_API_OVERLOADED` and `Retry-After`, so a backlog cannot grow until every request
 * times out. `/healthz` still answers: an overloaded process is alive, not broken.
 */
export const loadSheddingPlugin = fp<LoadSheddingOptions>(
  async (app, options) => {
    const retryAfter = String(options.retryAfterSeconds ?? 5);
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      maxEventLoopUtilization: options.maxEventLoopUtilization,
      sampleInterval: options.sampleIntervalMs ?? 1_000,
      pressureHandler: async (request, _reply, type) => {
        if (request.routeOptions.url === '/healthz') return;
        throw new ApiError(ApiErrorCode.overloaded, `the service is overloaded (${type})`, {
          hint: `retry after ${retryAfter} seconds`,
          headers: { 'retry-after': retryAfter },
        });
      },
    });
  },
  { name: 'ratsfach-load-shedding' },
);
