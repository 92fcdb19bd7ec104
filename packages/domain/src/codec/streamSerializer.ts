import { StreamKind } from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';
import type { DomainEvent, StreamTypes } from '../routing/deciders.js';
import { decodeEvent, encodeEvent } from './eventSerializer.js';
import type { EncodedEvent } from './eventSerializer.js';

const eventKinds = {
  TenantCreated: StreamKind.tenant,
  AdminDeviceCertified: StreamKind.tenant,
  AdminDeviceRevoked: StreamKind.tenant,
  Heartbeat: StreamKind.tenant,
  Checkpoint: StreamKind.tenant,
  UserCreated: StreamKind.user,
  DeviceCertified: StreamKind.user,
  DeviceRevoked: StreamKind.user,
  HeadsSeen: StreamKind.user,
  DeviceConfirmed: StreamKind.user,
  CommitteeCreated: StreamKind.committee,
  MembershipChanged: StreamKind.committee,
  MembershipCoSigned: StreamKind.committee,
  KeyEpochStarted: StreamKind.committee,
  EpochKeysWrapped: StreamKind.committee,
  RetentionSet: StreamKind.committee,
  LegalHoldPlaced: StreamKind.committee,
  LegalHoldLifted: StreamKind.committee,
  DocumentCreated: StreamKind.document,
  VersionCommitted: StreamKind.document,
  DocumentMoved: StreamKind.document,
  DocumentDeleted: StreamKind.document,
  DocumentRestored: StreamKind.document,
  DocumentErased: StreamKind.document,
  DocumentDelivered: StreamKind.delivery,
} as const satisfies { readonly [T in DomainEvent['type']]: StreamKind };

/** The kind of stream an event type belongs to. */
export const streamKindOfEvent = (type: DomainEvent['type']): StreamKind => eventKinds[type];

/** Encodes and decodes the events of one stream kind (fits the event store's command handler). */
export interface StreamSerializer<K extends StreamKind> {
  encode(event: StreamTypes[K]['event']): EncodedEvent;
  decode(stored: {
    readonly type: string;
    readonly data: Uint8Array;
    readonly metadata: Uint8Array;
  }): StreamTypes[K]['event'];
}

/**
 * The serialiser of one stream kind: `decodeEvent` plus a check that the event belongs to that
 * kind of stream (IntegrityError RATSFACH_DOMAIN_EVENT_MALFORMED otherwise).
 */
export function streamSerializer<K extends StreamKind>(kind: K): StreamSerializer<K> {
  return {
    encode: (event) => encodeEvent(event),
    decode(stored) {
      const event = decodeEvent(stored);
      if (eventKinds[event.type] !== kind) {
        throw domainErrors.eventOfOtherStream(stored.type, kind);
      }
      return event as StreamTypes[K]['event'];
    },
  };
}
