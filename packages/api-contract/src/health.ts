import Type, { type Static } from 'typebox';
import { healthPath, readyPath } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

export const ComponentHealth = Type.Object(
  {
    status: Type.Enum(['ok', 'failing']),
    /** The failure's stable code; its message (paths, hosts) goes to the log only. */
    code: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const HealthReply = Type.Object(
  {
    status: Type.Enum(['ok', 'degraded']),
    version: Type.String(),
    components: Type.Record(Type.String(), ComponentHealth),
  },
  { additionalProperties: false },
);
export type HealthReply = Static<typeof HealthReply>;

/** GET /healthz: 200 when every component answers, 503 naming the failing ones by code. */
export const getHealth = defineRoute({
  method: 'GET',
  url: healthPath,
  operationId: 'getHealth',
  summary: 'Whether the process and each of its stores answer',
  area: 'health',
  auth: RouteAuth.none,
  schemas: { response: { 200: HealthReply, 503: HealthReply } },
});

export const ProjectionReport = Type.Object(
  {
    /** The read models' checkpoint (a log position, decimal), or null before the first batch. */
    checkpoint: Type.Union([Type.String(), Type.Null()]),
    /** Events in the log after the checkpoint, counted up to a limit. */
    pending: Type.Integer({ minimum: 0 }),
    /** True when `pending` stopped counting at its limit: the lag is at least that. */
    atLeast: Type.Boolean(),
    /** How often the embedded projector was restarted since the process started. */
    restarts: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ProjectionReport = Static<typeof ProjectionReport>;

export const ReadinessReply = Type.Object(
  {
    /** `lagging`: the read models trail the log by more than the service accepts. */
    status: Type.Enum(['ready', 'lagging', 'failing']),
    version: Type.String(),
    projection: Type.Union([ProjectionReport, Type.Null()]),
    /** The failure's stable code when `failing`. */
    code: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ReadinessReply = Static<typeof ReadinessReply>;

/**
 * GET /readyz: 200 when the read models trail the log by at most the service's limit, 503
 * otherwise (`lagging`, or `failing` when the lag cannot be read). Says nothing of tenants.
 */
export const getReadiness = defineRoute({
  method: 'GET',
  url: readyPath,
  operationId: 'getReadiness',
  summary: 'Whether the read models have caught up with the log',
  area: 'health',
  auth: RouteAuth.none,
  schemas: { response: { 200: ReadinessReply, 503: ReadinessReply } },
});
