import { ConflictError, ValidationError } from '@ratsfach/kernel';

/** Stable codes of the sender's own errors (the sync engine's area). */
export const SendErrorCode = {
  /** No epoch of the committee holds a key for this device: nothing can be encrypted for it. */
  noEpochKey: 'RATSFACH_SYNC_NO_EPOCH_KEY',
  /** A queued change that this device would never have planned (a tampered or foreign entry). */
  queueEntryRefused: 'RATSFACH_SYNC_QUEUE_ENTRY_REFUSED',
} as const;
export type SendErrorCode = (typeof SendErrorCode)[keyof typeof SendErrorCode];

/** The committee has no epoch key for this device: the change waits in the queue. */
export const noEpochKeyError = (committeeId: string, cause?: unknown): ConflictError =>
  new ConflictError(
    SendErrorCode.noEpochKey,
    `committee ${committeeId} has no key epoch that holds a key for this device; the change waits in the queue`,
    {
      hint: `a staff device of ${committeeId} must start a key epoch or wrap the current key for this device (ratsfach keys on that device), then run ratsfach sync again`,
      details: { committeeId },
      ...(cause === undefined ? {} : { cause }),
    },
  );

/** A queue entry that does not hold up against this device's own view; dropped, unsent. */
export const queueEntryRefusedError = (
  why: string,
  details: Record<string, unknown>,
): ValidationError =>
  new ValidationError(SendErrorCode.queueEntryRefused, `a queued change was refused: ${why}`, {
    hint: 'nothing was sent and no file was touched; the next ratsfach sync plans the folder again',
    details,
  });
