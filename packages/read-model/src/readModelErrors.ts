import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  UnavailableError,
  ValidationError,
} from '@ratsfach/domain';

/** The stable codes of the read model's errors. */
export const ReadModelErrorCode = {
  cursorInvalid: 'RATSFACH_READ_MODEL_CURSOR_INVALID',
  cursorForeign: 'RATSFACH_READ_MODEL_CURSOR_FOREIGN',
  cursorFuture: 'RATSFACH_READ_MODEL_CURSOR_FUTURE',
  checkpointMoved: 'RATSFACH_READ_MODEL_CHECKPOINT_MOVED',
  batchInvalid: 'RATSFACH_READ_MODEL_BATCH_INVALID',
  deviceAmbiguous: 'RATSFACH_READ_MODEL_DEVICE_AMBIGUOUS',
  optionsInvalid: 'RATSFACH_READ_MODEL_OPTIONS_INVALID',
  schemaNewer: 'RATSFACH_READ_MODEL_SCHEMA_NEWER',
  unavailable: 'RATSFACH_READ_MODEL_UNAVAILABLE',
  closed: 'RATSFACH_READ_MODEL_CLOSED',
} as const;
export type ReadModelErrorCode = (typeof ReadModelErrorCode)[keyof typeof ReadModelErrorCode];

/** A manifest cursor that does not decode (not one the server issued, or damaged). */
export const cursorInvalid = (why: string): ValidationError =>
  new ValidationError(ReadModelErrorCode.cursorInvalid, `manifest cursor is invalid: ${why}`, {
    hint: 'send the cursor of the previous manifest delta unchanged, or none to start over',
  });

/** A cursor of another user or tenant, or naming a committee the user never read. */
export const cursorForeign = (why: string): ForbiddenError =>
  new ForbiddenError(ReadModelErrorCode.cursorForeign, `manifest cursor is not yours: ${why}`, {
    hint: 'each device keeps the cursor of its own user; start over without one',
  });

/** A cursor past the head of a feed: the server never issued it. */
export const cursorFuture = (feed: string, position: number, head: number): ValidationError =>
  new ValidationError(
    ReadModelErrorCode.cursorFuture,
    `manifest cursor is ahead of feed ${feed} (${position} > ${head})`,
    {
      hint: 'the cursor was not issued by this server (or its read model was rebuilt from a shorter log); start over without one',
      details: { feed, position, head },
    },
  );

/** Another projector moved the checkpoint: this one's view is stale. */
export const checkpointMoved = (expected: bigint | null, found: bigint | null): ConflictError =>
  new ConflictError(
    ReadModelErrorCode.checkpointMoved,
    `read-model checkpoint moved from ${String(expected)} to ${String(found)} under this projector`,
    {
      hint: 'run one projector per read model; restart this one from the stored checkpoint',
      details: { expected: String(expected), found: String(found) },
    },
  );

/** A batch out of order, or a checkpoint below its last event. */
export const batchInvalid = (why: string): ValidationError =>
  new ValidationError(ReadModelErrorCode.batchInvalid, `read-model batch refused: ${why}`, {
    hint: 'hand events to apply in log order, with a checkpoint at or after the last one',
  });

/** Two users of one tenant hold a device of the same id. */
export const deviceAmbiguous = (tenantId: string, deviceId: string): IntegrityError =>
  new IntegrityError(
    ReadModelErrorCode.deviceAmbiguous,
    `device ${deviceId} of tenant ${tenantId} is certified for more than one user`,
    {
      hint: 'refuse the login; an admin must revoke one of the two certificates',
      details: { tenantId, deviceId },
    },
  );

/** A query option out of its range. */
export const optionsInvalid = (name: string, value: unknown, range: string): ValidationError =>
  new ValidationError(
    ReadModelErrorCode.optionsInvalid,
    `read-model option ${name} is ${String(value)}, not ${range}`,
    { hint: `pass ${name} as ${range}, or leave it out for the default`, details: { name } },
  );

/** The database holds a read-model schema newer than this code. */
export const schemaNewer = (found: number, known: number): IntegrityError =>
  new IntegrityError(
    ReadModelErrorCode.schemaNewer,
    `read-model schema version ${found} is newer than this code (${known})`,
    {
      hint: 'upgrade ratsfach, or rebuild the read model into an empty database',
      details: { found, known },
    },
  );

/** The database cannot be reached or failed. */
export const readModelUnavailable = (action: string, cause: unknown): UnavailableError =>
  new UnavailableError(
    ReadModelErrorCode.unavailable,
    `read model: ${action} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    { hint: 'check that the read-model database is reachable, then retry', cause },
  );

/** A call on a closed store. */
export const readModelClosed = (): UnavailableError =>
  new UnavailableError(ReadModelErrorCode.closed, 'the read-model store is closed', {
    hint: 'open a new store; a closed one accepts no calls',
  });
