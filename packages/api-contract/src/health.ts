import Type, { type Static } from 'typebox';
import { healthPath } from './paths.js';
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
