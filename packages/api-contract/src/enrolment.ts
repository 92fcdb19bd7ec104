import Type, { type Static } from 'typebox';
import { Base64Url, Id, TenantParams } from './auth.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/** An enrolment code id: the 10 bytes of the code that reach the server, base64url (14 chars). */
export const CodeId = Type.String({ pattern: '^[A-Za-z0-9_-]{14}$' });

export const RegisterCodeRequest = Type.Object(
  {
    codeId: CodeId,
    /** The person the code was made for (the user chain the device will join). */
    userId: Id,
    /** ISO 8601; submissions after it are refused. At most 30 days ahead. */
    expiresAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type RegisterCodeRequest = Static<typeof RegisterCodeRequest>;

export const CodeStatus = Type.Enum(['open', 'used', 'expired']);

export const EnrolmentCodeReply = Type.Object(
  {
    codeId: CodeId,
    userId: Type.String(),
    expiresAt: Type.String(),
    createdAt: Type.String(),
    /** `used` once a certificate naming the code was appended. */
    status: CodeStatus,
    /** The admin device that registered it. */
    createdBy: Type.String(),
  },
  { additionalProperties: false },
);
export type EnrolmentCodeReply = Static<typeof EnrolmentCodeReply>;

export const EnrolmentCodesReply = Type.Object(
  { codes: Type.Array(EnrolmentCodeReply) },
  { additionalProperties: false },
);

export const CodeParams = Type.Object(
  { tenantId: Id, codeId: CodeId },
  { additionalProperties: false },
);

/** POST …/enrolment-codes: an admin device registers a one-time code id for a person. */
export const registerEnrolmentCode = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/enrolment-codes`,
  operationId: 'registerEnrolmentCode',
  summary: 'Register a one-time enrolment code id for a person',
  area: 'enrolment',
  auth: RouteAuth.admin,
  schemas: {
    params: TenantParams,
    body: RegisterCodeRequest,
    response: { 201: EnrolmentCodeReply },
  },
});

/** GET …/enrolment-codes: every code of the tenant with its state. */
export const listEnrolmentCodes = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/enrolment-codes`,
  operationId: 'listEnrolmentCodes',
  summary: 'The enrolment codes of the tenant and their state',
  area: 'enrolment',
  auth: RouteAuth.admin,
  schemas: { params: TenantParams, response: { 200: EnrolmentCodesReply } },
});

/** DELETE …/enrolment-codes/:codeId: withdraws a code and its submissions. */
export const withdrawEnrolmentCode = defineRoute({
  method: 'DELETE',
  url: `${apiPrefix}/tenants/:tenantId/enrolment-codes/:codeId`,
  operationId: 'withdrawEnrolmentCode',
  summary: 'Withdraw an unused enrolment code',
  area: 'enrolment',
  auth: RouteAuth.admin,
  schemas: { params: CodeParams, response: { 204: Type.Null() } },
});

export const SubmitEnrolmentRequest = Type.Object(
  {
    codeId: CodeId,
    /** The signed enrolment-request record (`createEnrolmentRequest`), base64url. */
    request: Base64Url(4096),
  },
  { additionalProperties: false },
);
export type SubmitEnrolmentRequest = Static<typeof SubmitEnrolmentRequest>;

export const EnrolmentSubmission = Type.Object(
  {
    submissionId: Type.String(),
    codeId: CodeId,
    userId: Type.String(),
    deviceId: Type.String(),
    /** The device's signing-key fingerprint (64 hex digits), to compare on the device. */
    fingerprint: Type.String(),
    /** The signed enrolment request, base64url: the admin device checks its MAC. */
    request: Type.String(),
    submittedAt: Type.String(),
    codeExpiresAt: Type.String(),
  },
  { additionalProperties: false },
);
export type EnrolmentSubmission = Static<typeof EnrolmentSubmission>;

/**
 * POST …/enrolments: a new device submits its signed public keys under a code id, without a
 * token. Refused unless the code is registered for that tenant and user, open and unexpired,
 * and the request is signed by the key it names; rate-limited per code id. The MAC is checked
 * by the admin device, which holds the code's secret.
 */
export const submitEnrolment = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/enrolments`,
  operationId: 'submitEnrolment',
  summary: "Submit a new device's public keys under an enrolment code id",
  area: 'enrolment',
  auth: RouteAuth.none,
  schemas: {
    params: TenantParams,
    body: SubmitEnrolmentRequest,
    response: { 202: EnrolmentSubmission },
  },
});

/** GET …/enrolments: the submissions under open codes, for an admin device to check and certify. */
export const listEnrolments = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/enrolments`,
  operationId: 'listEnrolments',
  summary: 'Device submissions waiting for certification',
  area: 'enrolment',
  auth: RouteAuth.admin,
  schemas: {
    params: TenantParams,
    response: {
      200: Type.Object(
        { submissions: Type.Array(EnrolmentSubmission) },
        { additionalProperties: false },
      ),
    },
  },
});
