import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Socket } from 'node:net';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { ApiError } from '../apiError.js';

export interface LimitsOptions {
  /** Open connections one peer address may hold; further ones are destroyed on accept. */
  readonly maxConnectionsPerAddress: number;
}

/**
 * Request-rate and connection limits. Rate limits are opt-in per route (`config.rateLimit` with a
 * `keyGenerator` on the device or enrolment-code id, not only the address), and a refusal is a
 * problem like every other error. The connection cap counts sockets by peer address: a client
 * that opens hundreds of idle connections cannot use up the process's file descriptors.
 */
export const limitsPlugin = fp<LimitsOptions>(
  async (app, options) => {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new ApiError(ApiErrorCode.rateLimited, `rate limit of ${context.max} exceeded`, {
          hint: `retry in ${context.after}`,
          headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        }),
    });

    const open = new Map<string, number>();
    const onConnection = (socket: Socket): void => {
      // The peer address is the proxy's behind a reverse proxy: size the cap for that.
      const address = socket.remoteAddress ?? 'unknown';
      const count = (open.get(address) ?? 0) + 1;
      if (count > options.maxConnectionsPerAddress) {
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left <= 0) open.delete(address);
        else open.set(address, left);
      });
    };
    app.server.on('connection', onConnection);
    app.addHook('onClose', async () => {
      app.server.off('connection', onConnection);
    });
  },
  { name: 'ratsfach-limits' },
);
