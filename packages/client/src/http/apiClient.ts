import { request, type Dispatcher } from 'undici';
import type { Static, TSchema } from 'typebox';
import {
  fillPath,
  type Problem,
  type RouteContract,
  type RouteSchemas,
} from '@ratsfach/api-contract';

type StaticOr<T, Fallback> = T extends TSchema ? Static<T> : Fallback;

/** What a call of a route takes: its path parameters, query and body, typed from the contract. */
export type CallInput<S extends RouteSchemas> = {
  readonly params?: StaticOr<S['params'], Record<string, string>>;
  readonly query?: StaticOr<S['querystring'], Record<string, string>>;
  readonly body?: StaticOr<S['body'], undefined>;
};

type SuccessStatus<S extends RouteSchemas> = Extract<keyof S['response'], 200 | 201 | 202 | 204>;
/** What a call of a route returns: its success body, typed from the contract. */
export type CallResult<S extends RouteSchemas> = StaticOr<S['response'][SuccessStatus<S>], unknown>;

/** An error answer of the API: its RFC 9457 problem, with the stable code to match on. */
export class ApiProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = 'ApiProblemError';
    this.status = problem.status;
    this.code = problem.code;
    this.hint = problem.hint;
    this.problem = problem;
  }
}

export interface ApiClientOptions {
  /** Where the service listens, e.g. `http://127.0.0.1:8480`. */
  readonly baseUrl: string;
  /** The bearer token for routes that need a device. */
  readonly token?: string;
  /** An undici Agent (keep-alive, connection cap); undici's global one otherwise. */
  readonly dispatcher?: Dispatcher;
}

/**
 * Calls routes of the API by their contract: path, method and types come from
 * `@ratsfach/api-contract`, so the client cannot drift from the server. Every error answer
 * becomes an ApiProblemError carrying the problem's stable code.
 */
export class ApiClient {
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.#options = options;
  }

  /** The bearer token this client sends, if any (to keep it between commands). */
  get token(): string | undefined {
    return this.#options.token;
  }

  /** A client that sends this token. */
  withToken(token: string): ApiClient {
    return new ApiClient({ ...this.#options, token });
  }

  async call<S extends RouteSchemas>(
    route: RouteContract<S>,
    input: CallInput<S> = {},
  ): Promise<CallResult<S>> {
    const path = fillPath(route.url, (input.params ?? {}) as Record<string, string>);
    const query = input.query
      ? `?${new URLSearchParams(input.query as Record<string, string>).toString()}`
      : '';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    let body: string | undefined;
    if (input.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input.body);
    }
    const response = await request(`${this.#options.baseUrl}${path}${query}`, {
      method: route.method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode >= 400) {
      throw new ApiProblemError(parseProblem(response.statusCode, text));
    }
    return (text === '' ? null : JSON.parse(text)) as CallResult<S>;
  }
}

/** The problem of an error answer; a body that is not one (a proxy's page) still gets a code. */
export function parseProblem(status: number, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (typeof parsed.code === 'string' && typeof parsed.detail === 'string') {
      return { ...parsed, status } as Problem;
    }
  } catch {
    // Falls through to the generic problem below.
  }
  return {
    type: 'about:blank',
    title: 'Unexpected answer',
    status,
    detail: text.slice(0, 200),
    instance: '',
    code: 'RATSFACH_CLIENT_UNEXPECTED_ANSWER',
  };
}
