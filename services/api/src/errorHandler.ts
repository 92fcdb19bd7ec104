import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorKind, isRatsfachError } from '@ratsfach/domain';

const statusByKind = {
  [ErrorKind.validation]: 400,
  [ErrorKind.forbidden]: 403,
  [ErrorKind.notFound]: 404,
  [ErrorKind.conflict]: 409,
  [ErrorKind.integrity]: 422,
  [ErrorKind.unavailable]: 503,
} as const;

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly hint?: string };
}

/**
 * Maps ratsfach's typed errors to status codes, Fastify's own validation errors to 400, and
 * masks everything unexpected as a 500 whose details go to the log only.
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (isRatsfachError(error)) {
    const status = statusByKind[error.kind];
    request.log.info({ code: error.code, status }, error.message);
    const body: ErrorBody = {
      error: {
        code: error.code,
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      },
    };
    return reply.status(status).send(body);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation || (fastifyError.statusCode && fastifyError.statusCode < 500)) {
    const body: ErrorBody = {
      error: {
        code: fastifyError.validation
          ? 'RATSFACH_REQUEST_INVALID'
          : `RATSFACH_HTTP_${fastifyError.statusCode}`,
        message: error.message,
        hint: 'check the request against the API schema',
      },
    };
    return reply.status(fastifyError.statusCode ?? 400).send(body);
  }
  request.log.error({ err: error }, 'unexpected error');
  const body: ErrorBody = {
    error: {
      code: 'RATSFACH_INTERNAL',
      message: 'internal error',
      hint: `retry later; if it persists, give the operator this request id: ${request.id}`,
    },
  };
  return reply.status(500).send(body);
}
