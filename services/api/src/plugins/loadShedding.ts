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

/** The probes: an overloaded process is alive, and its readiness says what it says. */
const probes = new Set(['/healthz', '/readyz']);

/**
 * Load shedding through `@fastify/under-pressure`: while the event loop is saturated, every
 * request but the probes is answered at once with problem+json 503 `RATSFACH_API_OVERLOADED`
 * and `Retry-After`, so a backlog cannot grow until every request times out.
 *
 * Each sample measures the last interval only (`interval` mode; the library's default averages
 * since start, so a busy start would shed for minutes and a long-running process would never
 * shed). Nothing is shed until two sample intervals after the app is ready: the sample that
 * spans the start (module loading, schema compilation) says nothing about serving.
 * `/healthz` and `/readyz` are never shed: their answers have a shape of their own, and a
 * probe that got 503 from shedding would be read as "broken" or "not ready".
 */
export const loadSheddingPlugin = fp<LoadSheddingOptions>(
  async (app, options) => {
    const retryAfter = String(options.retryAfterSeconds ?? 5);
    const sampleInterval = options.sampleIntervalMs ?? 1_000;
    let judgingFrom = Number.POSITIVE_INFINITY;
    app.addHook('onReady', async () => {
      judgingFrom = performance.now() + 2 * sampleInterval;
    });
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      maxEventLoopUtilization: options.maxEventLoopUtilization,
      eventLoopUtilizationMode: 'interval',
      sampleInterval,
      pressureHandler: async (request, _reply, type) => {
        if (probes.has(request.routeOptions.url ?? '')) return;
        if (performance.now() < judgingFrom) return;
        throw new ApiError(ApiErrorCode.overloaded, `the service is overloaded (${type})`, {
          hint: `retry after ${retryAfter} seconds`,
          headers: { 'retry-after': retryAfter },
        });
      },
    });
  },
  { name: 'ratsfach-load-shedding' },
);
