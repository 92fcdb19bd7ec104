/**
 * Stable codes of the errors the HTTP layer itself answers with (the domain's, event store's and
 * blob store's codes pass through unchanged). Never change a value once released: clients match on
 * these, never on message text.
 */
export const ApiErrorCode = {
  /** Params, query or body do not match the route's schema. */
  requestInvalid: 'RATSFACH_API_REQUEST_INVALID',
  /** The body is not parseable as its content type says. */
  bodyMalformed: 'RATSFACH_API_BODY_MALFORMED',
  bodyTooLarge: 'RATSFACH_API_BODY_TOO_LARGE',
  mediaTypeUnsupported: 'RATSFACH_API_MEDIA_TYPE_UNSUPPORTED',
  routeNotFound: 'RATSFACH_API_ROUTE_NOT_FOUND',
  methodNotAllowed: 'RATSFACH_API_METHOD_NOT_ALLOWED',
  /** No, a malformed, an unknown or an expired bearer token. */
  unauthenticated: 'RATSFACH_API_UNAUTHENTICATED',
  /** The token's device is revoked or its user no longer a member: log in again is pointless. */
  deviceNotInGoodStanding: 'RATSFACH_API_DEVICE_NOT_IN_GOOD_STANDING',
  /** The route needs a valid admin-device certificate of the tenant. */
  adminRequired: 'RATSFACH_API_ADMIN_REQUIRED',
  rateLimited: 'RATSFACH_API_RATE_LIMITED',
  /** The process sheds load (event loop or memory pressure): retry after the given delay. */
  overloaded: 'RATSFACH_API_OVERLOADED',
  /** The request took longer than the server allows. */
  requestTimeout: 'RATSFACH_API_REQUEST_TIMEOUT',
  /** Something unexpected; the details are in the server log under the request id. */
  internal: 'RATSFACH_API_INTERNAL',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** The HTTP status each API error code is answered with. */
export const apiErrorStatus: Readonly<Record<ApiErrorCode, number>> = {
  [ApiErrorCode.requestInvalid]: 400,
  [ApiErrorCode.bodyMalformed]: 400,
  [ApiErrorCode.bodyTooLarge]: 413,
  [ApiErrorCode.mediaTypeUnsupported]: 415,
  [ApiErrorCode.routeNotFound]: 404,
  [ApiErrorCode.methodNotAllowed]: 405,
  [ApiErrorCode.unauthenticated]: 401,
  [ApiErrorCode.deviceNotInGoodStanding]: 403,
  [ApiErrorCode.adminRequired]: 403,
  [ApiErrorCode.rateLimited]: 429,
  [ApiErrorCode.overloaded]: 503,
  [ApiErrorCode.requestTimeout]: 408,
  [ApiErrorCode.internal]: 500,
};

/** True for the codes listed in {@link ApiErrorCode}. */
export const isApiErrorCode = (code: string): code is ApiErrorCode =>
  Object.prototype.hasOwnProperty.call(apiErrorStatus, code);
