import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiErrorCode, PushEventType, pushEvents, pushHeartbeatMs } from '@ratsfach/api-contract';
import { ApiError } from '../../apiError.js';
import type { FeedNotifier } from '../../push/feedNotifier.js';
import { SseConnection } from '../../push/sseConnection.js';
import { contractRoute } from '../contractRoute.js';

export interface PushRouteOptions {
  readonly notifier: FeedNotifier;
  /** A comment line at least this often (ms); default the contract's `pushHeartbeatMs`. */
  readonly heartbeatMs?: number;
  /** A stream whose socket stays full this long is dropped (ms); default 10 s. */
  readonly stallMs?: number;
  /** Open streams per device; one more is refused with 429. Default 4. */
  readonly maxStreamsPerDevice?: number;
}

/**
 * Live push: a server-sent event stream per device telling it that its feeds moved (it then
 * fetches the manifest delta). Written on the hijacked socket by `SseConnection` (never awaited,
 * coalesced per stream, a stalled reader dropped); heartbeats keep proxies from closing it; the
 * socket's idle timeout is lifted for it; on shutdown every stream gets a `closing` event and ends.
 */
export const pushRoutes: FastifyPluginAsync<PushRouteOptions> = async (app, options) => {
  const { notifier } = options;
  const maxPerDevice = options.maxStreamsPerDevice ?? 4;
  const connections = new Set<SseConnection>();
  const perDevice = new Map<string, number>();
  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, options.heartbeatMs ?? pushHeartbeatMs);
  heartbeat.unref();
  app.addHook('preClose', async () => {
    clearInterval(heartbeat);
    notifier.close();
    for (const connection of [...connections]) connection.close();
  });

  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.route({
    ...contractRoute(pushEvents),
    handler: async (request, reply) => {
      const device = request.device!;
      const key = `${device.tenantId}/${device.deviceId}`;
      const open = perDevice.get(key) ?? 0;
      if (open >= maxPerDevice) {
        throw new ApiError(
          ApiErrorCode.rateLimited,
          `this device already holds ${open} event streams`,
          {
            hint: 'close the streams this device no longer reads before opening another',
            headers: { 'retry-after': '5' },
          },
        );
      }
      const position = await notifier.start();
      reply.hijack();
      const res = reply.raw;
      // The connection's idle timeout would end a quiet stream; stalls are our own to judge.
      request.raw.socket.setTimeout(0);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      perDevice.set(key, open + 1);
      let unsubscribe = (): void => undefined;
      const connection = new SseConnection(res, {
        stallMs: options.stallMs ?? 10_000,
        onEnd: () => {
          connections.delete(connection);
          unsubscribe();
          const left = (perDevice.get(key) ?? 1) - 1;
          if (left === 0) perDevice.delete(key);
          else perDevice.set(key, left);
        },
      });
      connections.add(connection);
      unsubscribe = notifier.subscribe({
        tenantId: device.tenantId,
        userId: device.userId,
        notify: (at) => connection.send(PushEventType.feeds, at),
      });
      const lastEventId = request.headers['last-event-id'];
      if (typeof lastEventId !== 'string') {
        connection.send(PushEventType.ready, position);
      } else if (position !== null && BigInt(lastEventId) !== position) {
        // A resumed stream hears at once that something moved while it was away.
        connection.send(PushEventType.feeds, position);
      }
    },
  });
};
