import Type, { type Static } from 'typebox';
import { TenantParams } from './auth.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/** The event names the push stream sends (`event:` lines). */
export const PushEventType = {
  /** Sent once when the stream opens: the device should fetch the delta now. */
  ready: 'ready',
  /** Some feed of the device's user moved: fetch the manifest delta. Coalesced per device. */
  feeds: 'feeds',
  /** The server is shutting down: reconnect (to another process) after a short pause. */
  closing: 'closing',
} as const;
export type PushEventType = (typeof PushEventType)[keyof typeof PushEventType];

/**
 * The `data:` of every push event (JSON). `position` is the log position the notice covers
 * (decimal); it is also the event's `id:`, so a reconnect with `Last-Event-ID` gets a `feeds`
 * notice at once if anything moved since.
 */
export const PushNotice = Type.Object(
  { position: Type.String({ pattern: '^[0-9]+$' }) },
  { additionalProperties: false },
);
export type PushNotice = Static<typeof PushNotice>;

/**
 * The server sends a comment line (`: hb`) at least this often (ms), so proxies keep the
 * stream open; a client that hears nothing for 2.5 times this long should reconnect.
 */
export const pushHeartbeatMs = 15_000;

export const PushHeaders = Type.Object({
  /** The `id` of the last event the device received (a log position, decimal). */
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
});

/**
 * GET /v1/tenants/:tenantId/events: a server-sent event stream (`text/event-stream`) telling
 * the device that its feeds moved; it then fetches `manifestDelta`. A stream that does not
 * read is dropped, never waited for; reconnect with `Last-Event-ID`.
 */
export const pushEvents = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/events`,
  operationId: 'pushEvents',
  summary: 'Live push: server-sent events telling the device its feeds moved',
  area: 'push',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    headers: PushHeaders,
    response: { 200: Type.String({ description: 'text/event-stream' }) },
  },
});
