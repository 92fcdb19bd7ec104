import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorHandler, notFoundHandler } from './errorHandler.js';
import { limitsPlugin } from './plugins/limits.js';
import { loadSheddingPlugin, type LoadSheddingOptions } from './plugins/loadShedding.js';
import { openApiPlugin } from './plugins/openapi.js';
import type { ReadModelStore } from '@ratsfach/read-model';
import { MemoryTokenStore, type TokenStore } from './auth/tokenStore.js';
import { LoginChallenges, type LoginChallengeStore } from './auth/loginChallenges.js';
import { authPlugin } from './plugins/auth.js';
import { storesPlugin, type AppStores } from './plugins/stores.js';
import { authRoutes } from './routes/auth/index.js';
import { uploadRoutes } from './routes/uploads/index.js';
import { documentRoutes } from './routes/documents/index.js';
import { manifestRoutes } from './routes/manifest/index.js';
import { pushRoutes } from './routes/push/index.js';
import { FeedNotifier } from './push/feedNotifier.js';
import { bootstrapRoutes } from './routes/bootstrap/index.js';
import { directoryRoutes } from './routes/directory/index.js';
import { enrolmentRoutes } from './routes/enrolment/index.js';
import { recordRoutes } from './routes/records/index.js';
import type { IdentityRouteOptions } from './routes/identityRouteOptions.js';
import type { ServiceState } from './state/serviceState.js';
import { healthRoutes, type HealthCheck, type Readiness } from './routes/health/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Tells live-push streams that feeds moved; present when stores and read models are. Feed
     * it the projector's checkpoint (`advance`) for the shortest latency; it also polls.
     */
    feedNotifier?: FeedNotifier;
  }
}

/** What the app needs from the outside; built by `main.ts`, or by a test. */
export interface AppDeps {
  readonly logger: Logger;
  readonly checks: readonly HealthCheck[];
  /** The projection lag `/readyz` reports; absent: always ready. */
  readonly readiness?: Readiness;
  /** Absent in tests of the HTTP layer alone; the store-backed areas are then not registered. */
  readonly stores?: AppStores;
  /** The read models (device standing, memberships, feeds); absent: no authenticated routes. */
  readonly readModel?: ReadModelStore;
  /**
   * Enrolment codes, the directory and upload-session owners (outside the log); absent: those
   * areas, uploads and documents are not registered.
   */
  readonly serviceState?: ServiceState;
  /** Where bearer tokens live; in process memory unless given (scale-out: PostgreSQL). */
  readonly tokens?: TokenStore;
  /** Where open login challenges live; in process memory unless given (scale-out: PostgreSQL). */
  readonly challenges?: LoginChallengeStore;
  /** Unix milliseconds; a test passes a clock it moves. */
  readonly now?: () => number;
}

/** Connection and request timeouts, in milliseconds (ApiConfig has the defaults). */
export interface AppTimeouts {
  /** Time to send a request's headers. */
  readonly headersMs: number;
  /** Time for a whole request (headers and body). */
  readonly requestMs: number;
  /** A socket that sends nothing this long is closed (event streams lift it for themselves). */
  readonly idleMs: number;
  /** An idle keep-alive connection between requests is closed after this long. */
  readonly keepAliveMs: number;
}

export interface AppOptions {
  readonly version: string;
  /** Largest accepted JSON body, in bytes. */
  readonly bodyLimit?: number;
  /** Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies?: readonly string[];
  readonly timeouts?: AppTimeouts;
  readonly maxConnectionsPerAddress?: number;
  /** Bearer-token lifetime (default 15 minutes). */
  readonly tokenTtlMs?: number;
  /** Login-challenge lifetime (default 60 s). */
  readonly challengeTtlMs?: number;
  /** Login attempts per device and minute (default 10; challenges twice that). */
  readonly loginsPerMinute?: number;
  /** The operator's bootstrap token; null or absent: tenants are created from loopback only. */
  readonly bootstrapToken?: string | null;
  /** Refuse requests with 503 while the event loop is saturated; absent: never. */
  readonly loadShedding?: LoadSheddingOptions;
}

export const defaultTimeouts: AppTimeouts = {
  headersMs: 10_000,
  requestMs: 120_000,
  idleMs: 30_000,
  keepAliveMs: 5_000,
};

/** Builds the API without listening; tests drive it with `app.inject()`. */
export async function buildApp(deps: AppDeps, options: AppOptions): Promise<FastifyInstance> {
  const timeouts = options.timeouts ?? defaultTimeouts;
  const trustedProxies = options.trustedProxies ?? [];
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Only an explicit list: `true` believes the spoofable leftmost X-Forwarded-For entry, and
    // rate-limit keys depend on the address (LIBRARIES.md, pitfall 4).
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // A socket silent for idleMs is destroyed; headers must arrive within headersMs, checked
    // every second (Node's default check runs every 30 s, so a byte-a-second client would live
    // that long); event streams lift the idle timeout for their own socket.
    http: {
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    },
    connectionTimeout: timeouts.idleMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Request ids come from the server, never from a client header that could forge log lines.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // Fastify's defaults strip unknown properties and coerce types silently; input from devices
    // is refused instead (params and query strings are declared as strings and parsed).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(openApiPlugin, { version: options.version });
  await app.register(limitsPlugin, {
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 256,
  });
  if (options.loadShedding) await app.register(loadSheddingPlugin, options.loadShedding);
  if (deps.stores) await app.register(storesPlugin, { stores: deps.stores });
  const now = deps.now ?? Date.now;
  if (deps.readModel) {
    const tokens = deps.tokens ?? new MemoryTokenStore(now);
    await app.register(authPlugin, { readModel: deps.readModel, tokens, now });
    await app.register(authRoutes, {
      readModel: deps.readModel,
      tokens,
      challenges:
        deps.challenges ??
        new LoginChallenges({ ttlMs: options.challengeTtlMs ?? 60_000, capacity: 100_000, now }),
      now,
      tokenTtlMs: options.tokenTtlMs ?? 15 * 60_000,
      loginsPerMinute: options.loginsPerMinute ?? 10,
      ...(deps.stores ? { eventStore: deps.stores.eventStore } : {}),
    });
    if (deps.stores) {
      // Upload sessions and the commits naming their objects need to know who opened which.
      if (deps.serviceState) {
        const state = deps.serviceState;
        await app.register(uploadRoutes, { readModel: deps.readModel, state, now });
        await app.register(documentRoutes, {
          commands: app.commands,
          readModel: deps.readModel,
          eventStore: deps.stores.eventStore,
          blobStore: deps.stores.blobStore,
          state,
          now,
        });
      }
      await app.register(manifestRoutes, { readModel: deps.readModel });
      const notifier = new FeedNotifier({
        eventStore: deps.stores.eventStore,
        readModel: deps.readModel,
        onError: (error) => app.log.warn({ err: error }, 'push notifier pass failed'),
      });
      app.decorate('feedNotifier', notifier);
      await app.register(pushRoutes, { notifier });
    }
    if (deps.stores && deps.serviceState) {
      const identity: IdentityRouteOptions = {
        eventStore: deps.stores.eventStore,
        commands: app.commands,
        state: deps.serviceState,
        readModel: deps.readModel,
        now,
        bootstrapToken: options.bootstrapToken ?? null,
      };
      await app.register(bootstrapRoutes, identity);
      await app.register(enrolmentRoutes, identity);
      await app.register(directoryRoutes, identity);
      await app.register(recordRoutes, identity);
    }
  }

  await app.register(healthRoutes, {
    checks: deps.checks,
    version: options.version,
    ...(deps.readiness ? { readiness: deps.readiness } : {}),
  });
  return app;
}
