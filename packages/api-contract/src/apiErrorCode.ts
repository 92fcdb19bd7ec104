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
  /** What the path names does not exist, or the caller may not see it (one answer for both). */
  notFound: 'RATSFACH_API_NOT_FOUND',
  /** A bootstrap without the operator's bootstrap token (or, without one, not from loopback). */
  bootstrapForbidden: 'RATSFACH_API_BOOTSTRAP_FORBIDDEN',
  /** The enrolment code id is unknown, withdrawn, used or expired: ask for a new code. */
  enrolmentCodeInvalid: 'RATSFACH_API_ENROLMENT_CODE_INVALID',
  /** The code id is registered already (code ids are random: make a new code). */
  enrolmentCodeExists: 'RATSFACH_API_ENROLMENT_CODE_EXISTS',
  /** The enrolment request is not signed by its own key or names another tenant, user or code. */
  enrolmentRequestInvalid: 'RATSFACH_API_ENROLMENT_REQUEST_INVALID',
  /** A code has taken as many device submissions as it may. */
  enrolmentCodeFull: 'RATSFACH_API_ENROLMENT_CODE_FULL',
  /** A certificate names an enrolment code that another certificate used. */
  enrolmentCodeUsed: 'RATSFACH_API_ENROLMENT_CODE_USED',
  /** The token's device may not submit this record (not its signer, or not an admin device). */
  submitterNotAllowed: 'RATSFACH_API_SUBMITTER_NOT_ALLOWED',
  /** The command names another tenant than the path. */
  tenantMismatch: 'RATSFACH_API_TENANT_MISMATCH',
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
  [ApiErrorCode.notFound]: 404,
  [ApiErrorCode.bootstrapForbidden]: 403,
  [ApiErrorCode.enrolmentCodeInvalid]: 404,
  [ApiErrorCode.enrolmentCodeExists]: 409,
  [ApiErrorCode.enrolmentRequestInvalid]: 422,
  [ApiErrorCode.enrolmentCodeFull]: 429,
  [ApiErrorCode.enrolmentCodeUsed]: 409,
  [ApiErrorCode.submitterNotAllowed]: 403,
  [ApiErrorCode.tenantMismatch]: 403,
  [ApiErrorCode.overloaded]: 503,
  [ApiErrorCode.requestTimeout]: 408,
  [ApiErrorCode.internal]: 500,
};

/** True for the codes listed in {@link ApiErrorCode}. */
export const isApiErrorCode = (code: string): code is ApiErrorCode =>
  Object.prototype.hasOwnProperty.call(apiErrorStatus, code);
