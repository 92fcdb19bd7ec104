import type { DomainEvent } from '../routing/deciders.js';

/** Stored data of one event as decoded, before it is checked against the current shape. */
export type StoredData = Readonly<Record<string, unknown>>;

/** Turns data of version `n` into data of version `n + 1`. Pure; never fails on good input. */
export type Upcaster = (data: StoredData) => StoredData;

/**
 * The current version of each event type. Stored event types are spelled `<Type>.v<n>`; an
 * event is always written at its current version, and read from any version up to it.
 */
export const eventVersions = {
  TenantCreated: 1,
  AdminDeviceCertified: 1,
  AdminDeviceRevoked: 1,
  Heartbeat: 2,
  Checkpoint: 1,
  UserCreated: 1,
  DeviceCertified: 1,
  DeviceRevoked: 1,
  HeadsSeen: 1,
  DeviceConfirmed: 1,
  CommitteeCreated: 1,
  MembershipChanged: 1,
  MembershipCoSigned: 1,
  KeyEpochStarted: 1,
  EpochKeysWrapped: 1,
  RetentionSet: 1,
  LegalHoldPlaced: 1,
  LegalHoldLifted: 1,
  DocumentCreated: 1,
  VersionCommitted: 2,
  DocumentMoved: 1,
  DocumentDeleted: 1,
  DocumentRestored: 1,
  DocumentErased: 1,
  DocumentDelivered: 1,
} as const satisfies { readonly [T in DomainEvent['type']]: number };

/**
 * Upcasters by event type and the version they read. Each takes one step; the serialiser
 * chains them from the stored version to the current one.
 */
export const upcasters: {
  readonly [T in DomainEvent['type']]?: Readonly<Record<number, Upcaster>>;
} = {
  Heartbeat: {
    // v1 predates committee heads in heartbeats (issue 8 item 1): it named none.
    1: (data) => ({ ...data, committeeHeads: {} }),
  },
  VersionCommitted: {
    // v1 held the committee state as one object { length, hash }; v2 indexes both as fields.
    1: ({ committee, ...rest }) => {
      const named = committee as { readonly length?: unknown; readonly hash?: unknown } | undefined;
      return { ...rest, committeeSequence: named?.length, committeeHead: named?.hash };
    },
  },
};
