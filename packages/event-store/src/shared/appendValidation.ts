import { parseStreamName } from '@ratsfach/kernel';
import {
  EmptyAppendError,
  EventTooLargeError,
  InvalidCommandIdError,
  InvalidEventError,
  InvalidExpectedRevisionError,
  InvalidReadOptionsError,
  TooManyEventsError,
} from '../errors.js';
import { eventIdsForTenant } from './eventId.js';
import type {
  AppendOptions,
  EventStoreLimits,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
} from '../eventStore.js';
import { isExpectedRevision, type ExpectedRevision } from '../expectedRevision.js';

/** An append that passed every check that needs no database, with its event ids derived. */
export interface ValidatedAppend {
  readonly stream: string;
  readonly tenant: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  readonly commandId: string;
  readonly eventIds: readonly string[];
}

const commandIdPattern = /^[\x21-\x7e]{1,200}$/;
const typePattern = /^[A-Za-z0-9_.:/-]{1,200}$/;

/**
 * Checks an append before any adapter touches its database, so every adapter refuses bad input
 * with the same typed error and nothing is half-written: the stream name's shape, the expected
 * revision, the command id, each event's shape and size, and the number of events.
 */
export function validateAppend(
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  options: AppendOptions,
  limits: EventStoreLimits,
): ValidatedAppend {
  const { tenant } = parseStreamName(stream);
  if (!isExpectedRevision(expected)) throw new InvalidExpectedRevisionError(expected);
  const commandId: unknown = options?.commandId;
  if (typeof commandId !== 'string') throw new InvalidCommandIdError('missing');
  if (!commandIdPattern.test(commandId)) {
    throw new InvalidCommandIdError('not 1 to 200 printable ASCII characters');
  }
  if (!Array.isArray(events)) throw new InvalidEventError(stream, 0, 'events is not an array');
  if (events.length === 0) throw new EmptyAppendError(stream);
  if (events.length > limits.maxEventsPerAppend) {
    throw new TooManyEventsError(stream, events.length, limits.maxEventsPerAppend);
  }
  // One pass over the events, no closure per event: this runs for every event appended.
  for (let index = 0; index < events.length; index += 1) {
    const event: unknown = events[index];
    if (typeof event !== 'object' || event === null) {
      throw new InvalidEventError(stream, index, 'not an object');
    }
    const { type, data, metadata } = event as Record<string, unknown>;
    if (typeof type !== 'string' || !typePattern.test(type)) {
      throw new InvalidEventError(stream, index, 'type is not 1 to 200 of [A-Za-z0-9_.:/-]');
    }
    if (!(data instanceof Uint8Array))
      throw new InvalidEventError(stream, index, 'data is not a Uint8Array');
    if (!(metadata instanceof Uint8Array)) {
      throw new InvalidEventError(stream, index, 'metadata is not a Uint8Array');
    }
    // The type pattern is ASCII, so its length is its byte length.
    const size = type.length + data.length + metadata.length;
    if (size > limits.maxEventBytes) {
      throw new EventTooLargeError(stream, index, size, limits.maxEventBytes);
    }
  }
  return {
    stream,
    tenant,
    events,
    expected,
    commandId,
    eventIds: eventIdsForTenant(tenant, commandId, events.length),
  };
}

/** The size of an event as the limit counts it. */
export const eventSize = (event: NewEvent): number =>
  event.type.length + event.data.length + event.metadata.length;

const checkMaxCount = (maxCount: number | undefined): void => {
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 1)) {
    throw new InvalidReadOptionsError('maxCount is not a positive integer');
  }
};

/** Checks readStream's arguments; throws the stream name's ValidationError or InvalidReadOptionsError. */
export function validateReadStream(stream: string, options: ReadStreamOptions = {}): void {
  parseStreamName(stream);
  const { direction, fromRevision, maxCount } = options;
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards') {
    throw new InvalidReadOptionsError('direction is neither forwards nor backwards');
  }
  if (fromRevision !== undefined && (typeof fromRevision !== 'bigint' || fromRevision < 0n)) {
    throw new InvalidReadOptionsError('fromRevision is not a bigint >= 0');
  }
  checkMaxCount(maxCount);
}

/** Checks readAll's (and subscribeToAll's) position, count and page size. */
export function validateReadAll(
  options: ReadAllOptions & { readonly pageSize?: number } = {},
): void {
  const { after, maxCount, pageSize } = options;
  if (pageSize !== undefined && (!Number.isSafeInteger(pageSize) || pageSize < 1)) {
    throw new InvalidReadOptionsError('pageSize is not a positive integer');
  }
  if (after !== undefined && (typeof after !== 'bigint' || after < 0n)) {
    throw new InvalidReadOptionsError('after is not a bigint >= 0');
  }
  checkMaxCount(maxCount);
}
