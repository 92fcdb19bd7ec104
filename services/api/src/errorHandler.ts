import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiErrorCode,
  apiErrorStatus,
  problemMediaType,
  problemType,
  type Problem,
} from '@ratsfach/api-contract';
import { ErrorKind, isRatsfachError, type RatsfachError } from '@ratsfach/domain';
import { ApiError, isApiError } from './apiError.js';

const statusByKind = {
  [ErrorKind.validation]: 400,
  [ErrorKind.forbidden]: 403,
  [ErrorKind.notFound]: 404,
  [ErrorKind.conflict]: 409,
  [ErrorKind.integrity]: 422,
  [ErrorKind.unavailable]: 503,
} as const;

const titleByStatus: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Integrity check failed',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/** Fastify's own client errors that have a stable API code of their own. */
const codeByFastifyCode: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ApiErrorCode.bodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ApiErrorCode.mediaTypeUnsupported,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ApiErrorCode.bodyMalformed,
  FST_ERR_CTP_EMPTY_JSON_BODY: ApiErrorCode.bodyMalformed,
  FST_ERR_CTP_INVALID_JSON_BODY: ApiErrorCode.bodyMalformed,
  FST_ERR_BAD_URL: ApiErrorCode.requestInvalid,
  // @fastify/multipart (upload parts).
  FST_INVALID_MULTIPART_CONTENT_TYPE: ApiErrorCode.mediaTypeUnsupported,
  FST_REQ_FILE_TOO_LARGE: ApiErrorCode.bodyTooLarge,
  FST_PARTS_LIMIT: ApiErrorCode.bodyTooLarge,
  FST_FILES_LIMIT: ApiErrorCode.bodyTooLarge,
  FST_FIELDS_LIMIT: ApiErrorCode.bodyTooLarge,
};

const requestHint = 'check the request against the API schema at /v1/openapi.json';

interface Answer {
  readonly status: number;
  readonly problem: Omit<Problem, 'type' | 'title' | 'status' | 'instance'>;
  readonly headers?: Readonly<Record<string, string>>;
}

function fromRatsfachError(error: RatsfachError): Answer {
  const current = error.details.current;
  return {
    status: statusByKind[error.kind],
    problem: {
      code: error.code,
      detail: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(current && typeof current === 'object' ? { current: current as Problem['current'] } : {}),
    },
    ...(error.kind === ErrorKind.unavailable ? { headers: { 'retry-after': '1' } } : {}),
  };
}

function fromFastifyError(error: FastifyError): Answer | undefined {
  if (error.validation) {
    const part = error.validationContext ?? 'body';
    return {
      status: 400,
      problem: {
        code: ApiErrorCode.requestInvalid,
        detail: error.message,
        hint: requestHint,
        violations: error.validation.map((issue) => ({
          pointer: `/${part}${issue.instancePath}`,
          message: issue.message ?? 'is invalid',
        })),
      },
    };
  }
  const status = error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const mapped = codeByFastifyCode[error.code];
  const code = mapped ?? (status === 413 ? ApiErrorCode.bodyTooLarge : ApiErrorCode.requestInvalid);
  return {
    // A mapped code answers with its own status (multipart says 406 where 415 is meant).
    status: mapped ? apiErrorStatus[mapped] : status,
    problem: { code, detail: error.message, hint: requestHint },
  };
}

/**
 * The one error handler: every error response is an RFC 9457 problem with a stable `code`.
 * API errors carry their status; ratsfach's typed errors map by kind; Fastify's client errors by
 * their own code; everything else is masked as a 500 whose details go to the log only.
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  let answer: Answer | undefined;
  if (isApiError(error)) {
    answer = {
      status: error.status,
      problem: {
        code: error.code,
        detail: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      },
      headers: error.headers,
    };
  } else if (isRatsfachError(error)) {
    answer = fromRatsfachError(error);
  } else {
    answer = fromFastifyError(error as FastifyError);
  }
  if (answer) {
    request.log.info({ code: answer.problem.code, status: answer.status }, answer.problem.detail);
  } else {
    request.log.error({ err: error }, 'unexpected error');
    answer = {
      status: 500,
      problem: {
        code: ApiErrorCode.internal,
        detail: 'internal error',
        hint: `retry later; if it persists, give the operator this request id: ${request.id}`,
      },
    };
  }
  const body: Problem = {
    type: problemType(answer.problem.code),
    title: titleByStatus[answer.status] ?? 'Error',
    status: answer.status,
    instance: `urn:ratsfach:request:${request.id}`,
    ...answer.problem,
  };
  return reply
    .status(answer.status)
    .headers(answer.headers ?? {})
    .type(problemMediaType)
    .send(body);
}

/** The 404 of every unknown route, as a problem like any other. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return errorHandler(
    new ApiError(
      ApiErrorCode.routeNotFound,
      `no route ${request.method} ${request.url.split('?')[0]}`,
      { hint: 'see the API reference at /v1/openapi.json' },
    ),
    request,
    reply,
  );
}
