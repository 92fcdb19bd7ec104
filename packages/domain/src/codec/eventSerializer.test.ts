import {
  canonicalEncode,
  canonicalStringify,
  type CanonicalValue,
  IntegrityError,
  ValidationError,
} from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../domainErrorCode.js';
import {
  decodeEvent,
  encodeEvent,
  parseStoredTypeName,
  storedTypeName,
} from './eventSerializer.js';
import { eventVersions } from './upcasters.js';
import { streamKindOfEvent, streamSerializer } from './streamSerializer.js';
import { Scenario, fakeHash } from '../testing/index.js';
import type { DomainEvent } from '../routing/deciders.js';

/** A scenario that runs every command once, so its log holds every event type. */
function everyEvent(): DomainEvent[] {
  const s = new Scenario().withDocument();
  s.exec(
    s.recordHeartbeat('adm1', { alice: fakeHash(new Uint8Array([1])) }, {}, 1_768_000_000, {
      council: { length: 3, hash: fakeHash(new Uint8Array([3])) },
    }),
  );
  s.exec(s.recordCheckpoint('adm1', 42));
  s.exec(s.certifyAdminDevice('adm2'));
  s.exec(s.revokeAdminDevice('adm2'));
  s.exec(
    s.recordHeadsSeen('alice', 'a1', [
      { stream: 'document-t1-doc1', length: 1, hash: fakeHash(new Uint8Array([2])) },
    ]),
  );
  s.exec(s.certifyDevice('alice', 'a2'));
  s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
  s.exec(s.revokeDevice('alice', 'a2'));
  s.exec(s.setRetention('council', null));
  s.exec(s.placeLegalHold('council'));
  s.exec(s.liftLegalHold('council'));
  s.exec(s.moveDocument('doc1', 'alice', 'a1'));
  s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
  s.exec(s.restoreDocument('doc1', 'alice', 'a1'));
  s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
  s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
  s.exec(s.recordDelivery());
  return [
    s.tenantStream(),
    s.userStream('alice'),
    s.userStream('bob'),
    s.committeeStream('council'),
    s.documentStream('doc1'),
    'delivery-t1-20260110',
  ].flatMap((stream) => s.events(stream));
}

const show = (value: unknown) => canonicalStringify(value as CanonicalValue);
const stored = (
  type: string,
  data: unknown,
  metadata: unknown = { commandId: 'c1', occurredAt: '2026-01-10T10:00:00.000Z' },
) => ({
  type,
  data: canonicalEncode(data as CanonicalValue),
  metadata: canonicalEncode(metadata as CanonicalValue),
});

t.test('every event type round-trips through its bytes unchanged', async (t) => {
  const events = everyEvent();
  t.same(
    [...new Set(events.map((e) => e.type))].sort(),
    Object.keys(eventVersions).sort(),
    'the scenario covers every event type',
  );
  for (const event of events) {
    const encoded = encodeEvent(event);
    t.equal(
      encoded.type,
      `${event.type}.v${eventVersions[event.type]}`,
      `${event.type} is stored under its versioned name`,
    );
    t.equal(show(decodeEvent(encoded)), show(event), `${event.type} decodes to the same event`);
  }
});

t.test('the same event always gives the same bytes', async (t) => {
  const [event] = everyEvent();
  if (event === undefined) throw new Error('no event');
  const shuffled = {
    metadata: { occurredAt: event.metadata.occurredAt, commandId: event.metadata.commandId },
    data: { ...event.data },
    type: event.type,
  };
  const a = encodeEvent(event);
  const b = encodeEvent(shuffled as DomainEvent);
  t.same([...a.data], [...b.data]);
  t.same([...a.metadata], [...b.metadata]);
  t.same([...encodeEvent(event).data], [...a.data], 'encoding twice gives the same bytes');
});

t.test('stores bytes as tagged base64url strings', async (t) => {
  const checkpoint = everyEvent().find((e) => e.type === 'Checkpoint');
  if (checkpoint === undefined) throw new Error('no checkpoint');
  const json = new TextDecoder().decode(encodeEvent(checkpoint).data);
  t.match(json, /"treeSize":42/);
  t.match(json, /"rootHash":\{"\$bytes":"[A-Za-z0-9_-]{86}"\}/);
});

t.test(
  'upcasts a VersionCommitted v1, which held the committee state as one object, to v2',
  async (t) => {
    const v2 = everyEvent().find((e) => e.type === 'VersionCommitted');
    if (v2 === undefined || v2.type !== 'VersionCommitted') throw new Error('no version');
    const { committeeSequence, committeeHead, ...rest } = v2.data;
    const v1Data = { ...rest, committee: { length: committeeSequence, hash: committeeHead } };
    const decoded = decodeEvent(stored('VersionCommitted.v1', v1Data, v2.metadata));
    t.equal(decoded.type, 'VersionCommitted');
    t.equal(show(decoded), show(v2), 'the v1 payload reads as the v2 event');
    t.equal(
      encodeEvent(decoded).type,
      'VersionCommitted.v2',
      'it is written back at the current version',
    );
    t.throws(
      () => decodeEvent(stored('VersionCommitted.v1', rest, v2.metadata)),
      {
        constructor: IntegrityError,
        code: DomainErrorCode.eventMalformed,
      },
      'a v1 payload without the committee state is malformed',
    );
  },
);

t.test('upcasts a Heartbeat v1, which named no committee heads, to v2', async (t) => {
  const v2 = everyEvent().find((e) => e.type === 'Heartbeat');
  if (v2 === undefined || v2.type !== 'Heartbeat') throw new Error('no heartbeat');
  t.same(Object.keys(v2.data.committeeHeads), ['council'], 'v2 carries the committee heads');
  const { committeeHeads: _named, ...v1Data } = v2.data;
  const decoded = decodeEvent(stored('Heartbeat.v1', v1Data, v2.metadata));
  t.equal(decoded.type, 'Heartbeat');
  t.same((decoded.data as { committeeHeads: unknown }).committeeHeads, {}, 'v1 named none');
  t.equal(encodeEvent(decoded).type, 'Heartbeat.v2', 'written back at the current version');
  t.throws(
    () => decodeEvent(stored('Heartbeat.v2', v1Data, v2.metadata)),
    { constructor: IntegrityError, code: DomainErrorCode.eventMalformed },
    'a v2 payload without committee heads is malformed',
  );
});

t.test('refuses unknown types and versions', async (t) => {
  const data = {
    deviceId: 'adm1',
    fingerprint: 'ab'.repeat(32),
    record: new Uint8Array([1]),
    recordHash: new Uint8Array(64),
    sequence: 1,
  };
  t.throws(() => decodeEvent(stored('Nonsense.v1', data)), {
    constructor: ValidationError,
    code: DomainErrorCode.eventTypeUnknown,
  });
  t.throws(
    () => decodeEvent(stored('AdminDeviceRevoked', data)),
    { constructor: ValidationError, code: DomainErrorCode.eventTypeUnknown },
    'no version',
  );
  t.throws(
    () => decodeEvent(stored('AdminDeviceRevoked.v0', data)),
    { constructor: ValidationError, code: DomainErrorCode.eventTypeUnknown },
    'version 0',
  );
  t.throws(
    () => decodeEvent(stored('toString.v1', data)),
    { constructor: ValidationError, code: DomainErrorCode.eventTypeUnknown },
    'a prototype name',
  );
  t.throws(() => decodeEvent(stored('AdminDeviceRevoked.v2', data)), {
    constructor: ValidationError,
    code: DomainErrorCode.eventVersionUnknown,
  });
  t.throws(() => decodeEvent(stored('VersionCommitted.v3', data)), {
    constructor: ValidationError,
    code: DomainErrorCode.eventVersionUnknown,
  });
  t.same(
    decodeEvent(stored('AdminDeviceRevoked.v1', data)).type,
    'AdminDeviceRevoked',
    'the well-formed one decodes',
  );
});

t.test('refuses malformed payloads', async (t) => {
  const good = {
    deviceId: 'adm1',
    fingerprint: 'ab'.repeat(32),
    record: new Uint8Array([1]),
    recordHash: new Uint8Array(64),
    sequence: 1,
  };
  const type = 'AdminDeviceRevoked.v1';
  const cases: [string, { type: string; data: Uint8Array; metadata: Uint8Array }][] = [
    ['bytes that are not JSON', { ...stored(type, good), data: new TextEncoder().encode('{') }],
    [
      'JSON that is not canonical',
      { ...stored(type, good), data: new TextEncoder().encode('{ "deviceId":"adm1"}') },
    ],
    ['data that is an array', stored(type, [good])],
    ['a missing field', stored(type, { ...good, deviceId: undefined })],
    ['an extra field', stored(type, { ...good, extra: 1 })],
    ['a field of the wrong type', stored(type, { ...good, sequence: '1' })],
    ['a hash of the wrong length', stored(type, { ...good, recordHash: new Uint8Array(3) })],
    ['an id of the wrong shape', stored(type, { ...good, deviceId: 'ADM-1' })],
    ['metadata without a time', stored(type, good, { commandId: 'c1' })],
    ['metadata with a bad time', stored(type, good, { commandId: 'c1', occurredAt: 'now' })],
  ];
  for (const [name, event] of cases) {
    t.throws(
      () => decodeEvent(event),
      { constructor: IntegrityError, code: DomainErrorCode.eventMalformed },
      name,
    );
  }
});

t.test('refuses to encode a malformed or unknown event', async (t) => {
  const [event] = everyEvent();
  if (event === undefined) throw new Error('no event');
  t.throws(
    () => encodeEvent({ ...event, data: { ...event.data, sequence: -0.5 } } as DomainEvent),
    {
      constructor: ValidationError,
      code: DomainErrorCode.eventInvalid,
    },
  );
  t.throws(() => encodeEvent({ ...event, type: 'Nope' } as unknown as DomainEvent), {
    constructor: ValidationError,
    code: DomainErrorCode.eventTypeUnknown,
  });
});

t.test('stored type names are <Type>.v<n>', async (t) => {
  t.equal(storedTypeName('VersionCommitted'), 'VersionCommitted.v2');
  t.same(parseStoredTypeName('TenantCreated.v1'), { type: 'TenantCreated', version: 1 });
  t.equal(parseStoredTypeName('TenantCreated.v01'), null);
  t.equal(parseStoredTypeName('Tenant.Created.v1'), null);
});

t.test('a stream serialiser decodes only its own kind of event', async (t) => {
  const events = everyEvent();
  const version = events.find((e) => e.type === 'VersionCommitted');
  const heartbeat = events.find((e) => e.type === 'Heartbeat');
  if (version === undefined || heartbeat === undefined) throw new Error('missing events');
  const documents = streamSerializer('document');
  t.equal(documents.decode(documents.encode(version as never)).type, 'VersionCommitted');
  t.throws(() => documents.decode(encodeEvent(heartbeat)), {
    constructor: IntegrityError,
    code: DomainErrorCode.eventMalformed,
  });
  for (const event of events) {
    t.equal(
      streamSerializer(streamKindOfEvent(event.type)).decode(encodeEvent(event)).type,
      event.type,
      `${event.type} has its kind`,
    );
  }
});

t.test('reads a Heartbeat v1 from the bytes a v1 writer stored', async (t) => {
  // As stored before committee heads existed: a format-1 heartbeat record, no committeeHeads.
  const userHead =
    '7HQe9xB2ljo4eRPJXHuLDFRqNVN4bKyWoG8qJcRxoWgch_I_QIppgmiM5xGMj15UhH4Im6iAf97Qgv1t9IV0sA';
  const bytes = (json: string) => new TextEncoder().encode(json);
  const v1 = {
    type: 'Heartbeat.v1',
    data: bytes(
      '{"record":{"$bytes":"eyJmaWVsZHMiOnsic2lnbmVyRGV2aWNlSWQiOiJhZG0xIiwidGVuYW50SWQiOiJ0MSIsInRpbWUiOjE3NjgwMDAwMDAsInVzZXJIZWFkcyI6eyJhbGljZSI6eyIkYnl0ZXMiOiI3SFFlOXhCMmxqbzRlUlBKWEh1TERGUnFOVk40Ykt5V29HOHFKY1J4b1dnY2hfSV9RSXBwZ21pTTV4R01qMTVVaEg0SW02aUFmOTdRZ3YxdDlJVjBzQSJ9fX0sImxhYmVsIjoicmF0c2ZhY2gvdjEvaGVhcnRiZWF0IiwicHJldmlvdXNIYXNoIjp7IiRieXRlcyI6Im82Q05LV2xFS2pEY1lvN1hyRVZ5bnJ3cFJmMXhPakhrWXBWbzYxbTZVcUpaQVVsQlcxczFpUHViTEU4XzltZjJXU096bFM5Sjlfd1kxcUdqcWEwYVdnIn0sInNlcXVlbmNlIjoyLCJzaWduYXR1cmUiOiJ2YWxpZCIsInNpZ25lciI6IjFjMzA0YTllZGI4NjQ5YTk4ZTI1MTViMDlmODE0ZmMzZDU5MDRjNGE2ZDVlMjRlNWI5NzFkNjljODQ3ZDA0ZmYifQ"},' +
        '"recordHash":{"$bytes":"75teGKl7tefMofUuufm2HRJZsuQ_zJWz0PcA-kzdZInVMxOQUb1Zn1K32yYS4J1VNb-y_DNhXetSUC_yYCCEAQ"},' +
        `"sequence":2,"signerDeviceId":"adm1","time":1768000000,"userHeads":{"alice":{"$bytes":"${userHead}"}}}`,
    ),
    metadata: bytes('{"commandId":"cmd_19","occurredAt":"2026-01-10T10:00:00.000Z"}'),
  };
  const decoded = decodeEvent(v1);
  t.equal(decoded.type, 'Heartbeat');
  const data = decoded.data as { committeeHeads: unknown; sequence: number; time: number };
  t.same(data.committeeHeads, {}, 'a v1 heartbeat named no committee heads');
  t.equal(data.sequence, 2);
  t.equal(data.time, 1768000000);
  const again = encodeEvent(decoded);
  t.equal(again.type, 'Heartbeat.v2', 'written back at the current version');
  t.same(decodeEvent(again), decoded, 'and reads back the same');
});
