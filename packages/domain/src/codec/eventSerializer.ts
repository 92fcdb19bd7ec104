import { canonicalDecode, canonicalEncode, type CanonicalValue } from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';
import type { DomainEvent } from '../routing/deciders.js';
import { EventMetadataSchema, eventDataSchemas } from '../schemas/eventSchemas.js';
import { firstProblem, lazyValidators } from '../schemas/lazyValidators.js';
import { eventVersions, upcasters } from './upcasters.js';
import type { StoredData } from './upcasters.js';

/**
 * An event as bytes, the shape the event store's `append` takes (`NewEvent` in
 * `@ratsfach/event-store`): the versioned type name and canonical JSON of data and metadata.
 */
export interface EncodedEvent {
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

type EventType = DomainEvent['type'];

const isEventType = (name: string): name is EventType => Object.hasOwn(eventVersions, name);

const dataValidator = lazyValidators(eventDataSchemas);
const metadataValidator = lazyValidators({ metadata: EventMetadataSchema });

/** The first way `data` and `metadata` miss their schemas, or null. */
function eventProblem(type: EventType, data: unknown, metadata: unknown): string | null {
  const validator = dataValidator(type);
  const metadataCheck = metadataValidator('metadata');
  if (!validator.Check(data)) return firstProblem(validator, data, 'data');
  if (!metadataCheck.Check(metadata)) return firstProblem(metadataCheck, metadata, 'metadata');
  return null;
}

/** The stored type name of an event type at its current version, e.g. `VersionCommitted.v2`. */
export const storedTypeName = (type: EventType): string => `${type}.v${eventVersions[type]}`;

/** Splits a stored type name `<Type>.v<n>`; null when it is not of that shape. */
export function parseStoredTypeName(
  stored: string,
): { readonly type: string; readonly version: number } | null {
  const match = /^([A-Za-z][A-Za-z0-9]*)\.v([1-9]\d{0,5})$/.exec(stored);
  if (match === null) return null;
  return { type: match[1] as string, version: Number(match[2]) };
}

const malformed = domainErrors.eventMalformed;

/**
 * Encodes a domain event for the event store: `<Type>.v<current>` and canonical JSON bytes
 * (sorted keys, bytes as base64url, bigints as decimal strings). The same event always gives
 * the same bytes. Refuses (ValidationError RATSFACH_DOMAIN_EVENT_INVALID) an event whose data
 * or metadata does not fit its type, so nothing malformed reaches the log.
 */
export function encodeEvent(event: DomainEvent): EncodedEvent {
  if (!isEventType(event.type)) throw domainErrors.eventTypeUnknown(event.type);
  const problem = eventProblem(event.type, event.data, event.metadata);
  if (problem !== null) throw domainErrors.eventInvalid(event.type, problem);
  return {
    type: storedTypeName(event.type),
    data: canonicalEncode(event.data as unknown as CanonicalValue),
    metadata: canonicalEncode(event.metadata as unknown as CanonicalValue),
  };
}

const decodeObject = (type: string, bytes: Uint8Array, what: string): StoredData => {
  let value: CanonicalValue;
  try {
    value = canonicalDecode(bytes);
  } catch (error) {
    throw malformed(type, `${what} is not canonical JSON`, error);
  }
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    throw malformed(type, `${what} is not an object`);
  }
  return value as StoredData;
};

/**
 * Decodes a stored event (any `RecordedEvent` of the event store fits) into a domain event at
 * its current version, running the upcasters from the stored version. Refuses an unknown type
 * or a version newer than this code (ValidationError RATSFACH_DOMAIN_EVENT_TYPE_UNKNOWN /
 * RATSFACH_DOMAIN_EVENT_VERSION_UNKNOWN) and malformed bytes or data that does not fit the
 * type (IntegrityError RATSFACH_DOMAIN_EVENT_MALFORMED).
 */
export function decodeEvent(stored: {
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}): DomainEvent {
  const parsed = parseStoredTypeName(stored.type);
  if (parsed === null || !isEventType(parsed.type))
    throw domainErrors.eventTypeUnknown(stored.type);
  const type = parsed.type;
  const current: number = eventVersions[type];
  if (parsed.version > current) throw domainErrors.eventNewerThanCode(stored.type, current);
  let data = decodeObject(stored.type, stored.data, 'data');
  for (let version = parsed.version; version < current; version++) {
    const upcast = upcasters[type]?.[version];
    if (upcast === undefined) throw domainErrors.eventVersionUnreadable(stored.type, type, version);
    data = upcast(data);
  }
  const metadata = decodeObject(stored.type, stored.metadata, 'metadata');
  const problem = eventProblem(type, data, metadata);
  if (problem !== null) throw malformed(stored.type, `does not fit its type: ${problem}`);
  return { type, data, metadata } as unknown as DomainEvent;
}
