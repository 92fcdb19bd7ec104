import { bytesEqual } from '@ratsfach/kernel';
import type { ValidatedAppend } from './appendValidation.js';
import { CommandIdReusedError } from '../errors.js';
import { eventIdFor } from './eventId.js';
import type { AppendResult, RecordedEvent } from '../eventStore.js';

/**
 * Decides what a second append of a command id means. `stored` holds the stored event whose id
 * is the append's first event id, followed by the next events of its stream (at most
 * `append.events.length + 1` in all, forwards). Returns the stored result (replayed) when the
 * append is the same command again, or throws CommandIdReusedError when the id was used for
 * another stream or other events.
 *
 * Types and data are compared byte for byte; metadata is not, because it carries what the server
 * adds around a command (the time it was received, say), which differs on an honest retry.
 */
export function replayedResult(
  append: ValidatedAppend,
  stored: readonly RecordedEvent[],
): AppendResult {
  const first = stored[0];
  if (first === undefined) throw new RangeError('replayedResult needs the stored first event');
  if (first.stream !== append.stream) {
    throw new CommandIdReusedError(
      append.commandId,
      append.stream,
      'for another stream',
      first.stream,
    );
  }
  const count = append.events.length;
  for (let index = 0; index < count; index += 1) {
    const event = append.events[index];
    const storedEvent = stored[index];
    if (
      storedEvent === undefined ||
      event === undefined ||
      storedEvent.eventId !== append.eventIds[index]
    ) {
      throw new CommandIdReusedError(append.commandId, append.stream, 'with fewer events');
    }
    if (storedEvent.type !== event.type || !bytesEqual(storedEvent.data, event.data)) {
      throw new CommandIdReusedError(
        append.commandId,
        append.stream,
        `with other events (event ${index} differs)`,
      );
    }
  }
  const after = stored[count];
  if (after !== undefined && after.eventId === eventIdFor(append.tenant, append.commandId, count)) {
    throw new CommandIdReusedError(append.commandId, append.stream, 'with more events');
  }
  const last = stored[count - 1] as RecordedEvent;
  return {
    nextExpectedRevision: last.revision,
    lastGlobalPosition: last.globalPosition,
    eventIds: [...append.eventIds],
    replayed: true,
  };
}
