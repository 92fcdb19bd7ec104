import { apiErrorStatus, type ApiErrorCode } from '@ratsfach/api-contract';

export interface ApiErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
  /** Response headers the problem needs (`retry-after`, `www-authenticate`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error the HTTP layer answers itself (authentication, rate limits, load shedding, malformed
 * requests); its status follows from its code. Domain and store errors keep their own classes.
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly hint: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = apiErrorStatus[code];
    this.hint = options.hint;
    this.headers = options.headers ?? {};
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
