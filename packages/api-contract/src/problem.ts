import Type, { type Static } from 'typebox';

/** The media type of every error response (RFC 9457). */
export const problemMediaType = 'application/problem+json';

/** The `type` URI of a problem: one per stable code, so the two never disagree. */
export const problemType = (code: string): string => `urn:ratsfach:problem:${code}`;

/** One schema violation of a refused request. */
export const ProblemViolation = Type.Object(
  {
    /** JSON pointer into the request part (`/body/name`, `/params/tenantId`). */
    pointer: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: false },
);

/**
 * The RFC 9457 problem body of every error response, extended with ratsfach's stable `code`, a
 * `hint` telling the caller what to do next and the request id the operator finds in the log.
 */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:ratsfach:problem:<code>' }),
    title: Type.String({ description: 'the kind of problem, the same for every occurrence' }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'this occurrence, for people; never matched on' }),
    instance: Type.String({ description: 'urn:ratsfach:request:<request id>' }),
    code: Type.String({ pattern: '^RATSFACH_[A-Z0-9_]+$' }),
    hint: Type.Optional(Type.String()),
    /** Present on RATSFACH_API_REQUEST_INVALID. */
    violations: Type.Optional(Type.Array(ProblemViolation)),
    /** Present on 409 conflicts that tell the caller the current state (a stream head). */
    current: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer()]))),
  },
  { additionalProperties: false },
);
export type Problem = Static<typeof Problem>;
