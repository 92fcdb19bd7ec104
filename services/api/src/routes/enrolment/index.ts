import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiErrorCode,
  listEnrolmentCodes,
  listEnrolments,
  registerEnrolmentCode,
  submitEnrolment,
  withdrawEnrolmentCode,
  type EnrolmentCodeReply,
  type EnrolmentSubmission,
} from '@ratsfach/api-contract';
import { constantTimeEqual, fingerprint, openRecord } from '@ratsfach/crypto';
import { isIsoTime } from '@ratsfach/domain';
import { ApiError } from '../../apiError.js';
import type { EnrolmentCodeRow, SubmissionRow } from '../../state/serviceState.js';
import { contractRoute } from '../contractRoute.js';
import type { IdentityRouteOptions } from '../identityRouteOptions.js';

/** Longest time a code may stay open: it travels on paper; a week is usual. */
const maxCodeLifetimeMs = 30 * 24 * 3600_000;
/** Devices one code takes: a second try after a typo, not a fleet. */
const maxSubmissionsPerCode = 5;

const codeInvalid = () =>
  // One answer for unknown, withdrawn, used and expired codes and for another tenant's code.
  new ApiError(ApiErrorCode.enrolmentCodeInvalid, 'this enrolment code is not open', {
    hint: 'ask your administrator for a new enrolment code',
  });

const requestInvalid = (why: string) =>
  new ApiError(ApiErrorCode.enrolmentRequestInvalid, `enrolment request refused: ${why}`, {
    hint: 'enrol with the code exactly as printed, on the device that made the request',
  });

const iso = (ms: number) => new Date(ms).toISOString();

const codeReply = (row: EnrolmentCodeRow, now: number): EnrolmentCodeReply => ({
  codeId: row.codeId,
  userId: row.userId,
  expiresAt: iso(row.expiresAt),
  createdAt: iso(row.createdAt),
  createdBy: row.createdBy,
  status: row.usedAt !== null ? 'used' : row.expiresAt <= now ? 'expired' : 'open',
});

const submissionReply = (row: SubmissionRow): EnrolmentSubmission => ({
  submissionId: row.submissionId,
  codeId: row.codeId,
  userId: row.userId,
  deviceId: row.deviceId,
  fingerprint: row.fingerprint,
  request: Buffer.from(row.request).toString('base64url'),
  submittedAt: iso(row.submittedAt),
  codeExpiresAt: iso(row.codeExpiresAt),
});

/** Submissions are limited per code id, wherever they come from (an attacker rotates addresses). */
const byCodeId = (request: FastifyRequest): string => {
  const { tenantId } = request.params as { tenantId: string };
  const { codeId } = (request.body ?? {}) as { codeId?: string };
  return `${tenantId}\u0000${codeId ?? ''}`;
};

/**
 * Enrolment: an admin device registers a one-time code id for a person (the code's secret
 * never reaches the server); the new device submits its signed public keys under the code id
 * without a token; an admin device lists the submissions, checks each MAC with the secret and
 * certifies through the records route, which uses the code up. State lives outside the log.
 */
export const enrolmentRoutes: FastifyPluginAsync<IdentityRouteOptions> = async (app, options) => {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { state, now } = options;

  typed.route({
    ...contractRoute(registerEnrolmentCode),
    handler: async (request, reply) => {
      const { tenantId } = request.params;
      const { codeId, userId, expiresAt } = request.body;
      const at = now();
      const expiry = Date.parse(expiresAt);
      if (!isIsoTime(expiresAt) || expiry <= at || expiry > at + maxCodeLifetimeMs) {
        throw new ApiError(
          ApiErrorCode.requestInvalid,
          `expiresAt ${expiresAt} is not an ISO 8601 UTC time within the next 30 days`,
          { hint: 'give the code an expiry in the future, at most 30 days ahead' },
        );
      }
      if (!(await options.readModel.userExists(tenantId, userId))) {
        throw new ApiError(ApiErrorCode.notFound, `no person ${userId} in this tenant`, {
          hint: 'create the person (CreateUser) first, then make their code',
        });
      }
      const row: EnrolmentCodeRow = {
        tenantId,
        codeId,
        userId,
        expiresAt: expiry,
        createdAt: at,
        createdBy: request.device!.deviceId,
        usedAt: null,
        usedBy: null,
      };
      if (!(await state.registerCode(row))) {
        throw new ApiError(ApiErrorCode.enrolmentCodeExists, 'this code id is registered already', {
          hint: 'make a new enrolment code (code ids are random)',
        });
      }
      request.log.info({ tenantId, userId }, 'enrolment code registered');
      return reply.status(201).send(codeReply(row, at));
    },
  });

  typed.route({
    ...contractRoute(listEnrolmentCodes),
    handler: async (request) => {
      const at = now();
      const codes = await state.listCodes(request.params.tenantId);
      return { codes: codes.map((row) => codeReply(row, at)) };
    },
  });

  typed.route({
    ...contractRoute(withdrawEnrolmentCode),
    handler: async (request, reply) => {
      const { tenantId, codeId } = request.params;
      if (!(await state.withdrawCode(tenantId, codeId))) {
        throw new ApiError(ApiErrorCode.notFound, 'no unused enrolment code with this id', {
          hint: 'list the codes; a used code stays on record',
        });
      }
      return reply.status(204).send(null);
    },
  });

  const submitRoute = contractRoute(submitEnrolment);
  typed.route({
    ...submitRoute,
    config: {
      ...submitRoute.config,
      rateLimit: { max: 10, timeWindow: 60_000, hook: 'preHandler', keyGenerator: byCodeId },
    },
    handler: async (request, reply) => {
      const { tenantId } = request.params;
      const { codeId } = request.body;
      const at = now();
      const code = await state.code(tenantId, codeId);
      if (code === null || code.usedAt !== null || code.expiresAt <= at) throw codeInvalid();
      let body;
      let signerKey: Uint8Array;
      const bytes = new Uint8Array(Buffer.from(request.body.request, 'base64url'));
      try {
        ({ body, signerKey } = openRecord(bytes, 'enrolment-request'));
      } catch (error) {
        throw requestInvalid(`not a signed enrolment request (${(error as Error).message})`);
      }
      if (!constantTimeEqual(signerKey, body.signingKey)) {
        throw requestInvalid('not signed by the key it names');
      }
      if (Buffer.from(body.codeId).toString('base64url') !== codeId) {
        throw requestInvalid('made for another code');
      }
      if (body.tenantId !== tenantId || body.userId !== code.userId) throw codeInvalid();
      const row: SubmissionRow = {
        submissionId: randomUUID(),
        tenantId,
        codeId,
        userId: body.userId,
        deviceId: body.deviceId,
        fingerprint: fingerprint(body.signingKey),
        request: bytes,
        submittedAt: at,
        codeExpiresAt: code.expiresAt,
      };
      const added = await state.addSubmission(row, maxSubmissionsPerCode);
      if (added === 'duplicate') {
        const earlier = (await state.pendingSubmissions(tenantId, at)).find(
          (s) => s.codeId === codeId && s.deviceId === body.deviceId,
        );
        if (earlier === undefined || earlier.fingerprint !== row.fingerprint) {
          throw requestInvalid(`device ${body.deviceId} submitted other keys under this code`);
        }
        return reply.status(202).send(submissionReply(earlier));
      }
      if (added === 'full') {
        throw new ApiError(
          ApiErrorCode.enrolmentCodeFull,
          'this enrolment code has taken as many devices as it may',
          { hint: 'ask your administrator to withdraw it and make a new code' },
        );
      }
      request.log.info({ tenantId, deviceId: row.deviceId }, 'enrolment submitted');
      return reply.status(202).send(submissionReply(row));
    },
  });

  typed.route({
    ...contractRoute(listEnrolments),
    handler: async (request) => ({
      submissions: (await state.pendingSubmissions(request.params.tenantId, now())).map(
        submissionReply,
      ),
    }),
  });
};
