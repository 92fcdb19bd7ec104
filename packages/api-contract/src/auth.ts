import Type, { type Static } from 'typebox';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/** Ids as the domain accepts them: 1-64 letters, digits, `_` and `-`. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
/** Bytes in unpadded base64url. */
export const Base64Url = (maxLength: number) =>
  Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength });

export const TenantParams = Type.Object({ tenantId: Id }, { additionalProperties: false });

export const LoginChallengeRequest = Type.Object({ deviceId: Id }, { additionalProperties: false });
export const LoginChallengeReply = Type.Object(
  {
    challengeId: Type.String(),
    /** 32 random bytes, base64url: the device signs them with `createLoginProof`. */
    challenge: Base64Url(64),
    /** ISO 8601; the challenge is single-use and refused afterwards. */
    expiresAt: Type.String(),
  },
  { additionalProperties: false },
);
export type LoginChallengeReply = Static<typeof LoginChallengeReply>;

export const LoginRequest = Type.Object(
  {
    deviceId: Id,
    challengeId: Type.String({ maxLength: 64 }),
    /** The signed login-proof record, base64url. */
    proof: Base64Url(4096),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const Session = Type.Object(
  {
    tenantId: Type.String(),
    userId: Type.String(),
    deviceId: Type.String(),
    /** Whether the device holds a valid admin certificate of the tenant. */
    admin: Type.Boolean(),
    /** ISO 8601 expiry of the token. */
    expiresAt: Type.String(),
  },
  { additionalProperties: false },
);
export type Session = Static<typeof Session>;

export const LoginReply = Type.Object(
  {
    /** Opaque bearer token; send it as `Authorization: Bearer <token>`. */
    token: Type.String(),
    session: Session,
  },
  { additionalProperties: false },
);
export type LoginReply = Static<typeof LoginReply>;

/** POST …/login/challenge: a fresh, single-use server nonce for one device. */
export const requestLoginChallenge = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/login/challenge`,
  operationId: 'requestLoginChallenge',
  summary: 'A single-use challenge for a device to sign',
  area: 'auth',
  auth: RouteAuth.none,
  schemas: {
    params: TenantParams,
    body: LoginChallengeRequest,
    response: { 200: LoginChallengeReply },
  },
});

/** POST …/login: the signed challenge in, a short-lived bearer token out. */
export const login = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/login`,
  operationId: 'login',
  summary: 'Exchange a signed login proof for a short-lived bearer token',
  area: 'auth',
  auth: RouteAuth.none,
  schemas: { params: TenantParams, body: LoginRequest, response: { 200: LoginReply } },
});

/** GET …/session: who the token speaks for (a device in good standing). */
export const getSession = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/session`,
  operationId: 'getSession',
  summary: 'The device and user the bearer token speaks for',
  area: 'auth',
  auth: RouteAuth.device,
  schemas: { params: TenantParams, response: { 200: Session } },
});

/** DELETE …/session: ends the token at once. */
export const logout = defineRoute({
  method: 'DELETE',
  url: `${apiPrefix}/tenants/:tenantId/session`,
  operationId: 'logout',
  summary: 'End the bearer token',
  area: 'auth',
  auth: RouteAuth.device,
  schemas: { params: TenantParams, response: { 204: Type.Null() } },
});
