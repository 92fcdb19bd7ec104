import type { TSchema } from 'typebox';
import { Problem } from './problem.js';

/** What a route needs from its caller before it runs. */
export const RouteAuth = {
  /** Anyone: health, the OpenAPI document, login challenges, enrolment submissions. */
  none: 'none',
  /** A bearer token of a device in good standing. */
  device: 'device',
  /** A bearer token of a device whose admin certificate for the tenant is valid. */
  admin: 'admin',
} as const;
export type RouteAuth = (typeof RouteAuth)[keyof typeof RouteAuth];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The JSON schemas of one route; `response` names every success status. */
export interface RouteSchemas {
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly headers?: TSchema;
  readonly body?: TSchema;
  readonly response: Readonly<Record<number, TSchema>>;
}

/** One route of the API as both the service and its clients see it. */
export interface RouteContract<S extends RouteSchemas = RouteSchemas> {
  readonly method: HttpMethod;
  /** Fastify path syntax (`/v1/tenants/:tenantId/login`). */
  readonly url: string;
  /** Unique, camelCase: the OpenAPI operation id and the typed client's method name. */
  readonly operationId: string;
  readonly summary: string;
  /** The area (auth, admin, uploads, …): one OpenAPI tag and one route folder. */
  readonly area: string;
  readonly auth: RouteAuth;
  /** The request body's media type when it is not JSON (uploads are multipart). */
  readonly consumes?: string;
  readonly schemas: S;
}

/** Declares a route, keeping the exact schema types for the service's and client's inference. */
export const defineRoute = <const S extends RouteSchemas>(route: RouteContract<S>) => route;

/** Every error status any route may answer with, each with the problem body. */
export const problemResponses = {
  '4xx': Problem,
  '5xx': Problem,
} as const;
