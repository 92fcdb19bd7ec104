import t from 'tap';
import { encodeEvent, type DomainEvent } from '@ratsfach/domain';
import { sampleEventData } from '@ratsfach/domain/testing';
import { ANY } from '@ratsfach/event-store';
import { openMemoryEventStore } from '@ratsfach/event-store/memory';
import type { ReadModelStore } from '@ratsfach/read-model';
import { FeedNotifier } from './feedNotifier.js';

let commands = 0;
const event = (type: DomainEvent['type'], data: Record<string, unknown> = {}) =>
  encodeEvent({
    type,
    data: { ...sampleEventData(type), ...data },
    metadata: { commandId: `c${++commands}`, occurredAt: '2026-11-28T03:00:00.000Z' },
  } as unknown as DomainEvent);

/** A read model that says what the test wants: its checkpoint, committees and documents. */
const fakeReadModel = () => {
  const model = {
    checkpointAt: null as bigint | null,
    failCheckpoint: false,
    failCommittees: false,
    committees: new Map<string, string[]>(),
    documents: new Map<string, string>(),
    committeeLoads: 0,
    checkpointReads: 0,
  };
  const readModel = {
    checkpoint: async () => {
      model.checkpointReads++;
      if (model.failCheckpoint) throw new Error('read model down');
      return model.checkpointAt;
    },
    manifestCommittees: async (_tenantId: string, userId: string) => {
      model.committeeLoads++;
      if (model.failCommittees) throw new Error('read model down');
      return (model.committees.get(userId) ?? []).map((committeeId) => ({
        committeeId,
        role: 'reader',
        leftAtSeq: null,
      }));
    },
    document: async (tenantId: string, documentId: string) => {
      const committeeId = model.documents.get(documentId);
      return committeeId === undefined ? null : { tenantId, documentId, committeeId };
    },
  } as unknown as ReadModelStore;
  return { model, readModel };
};

const listener = (tenantId: string, userId: string) => {
  const heard: bigint[] = [];
  return { heard, subscriber: { tenantId, userId, notify: (p: bigint) => heard.push(p) } };
};

t.test('notifies the readers of the feeds the projected events moved', async (t) => {
  const eventStore = await openMemoryEventStore();
  const { model, readModel } = fakeReadModel();
  const errors: unknown[] = [];
  const notifier = new FeedNotifier({
    eventStore,
    readModel,
    pollMs: 0,
    onError: (error) => errors.push(error),
  });
  t.equal(await notifier.start(), null, 'starts at the empty read model');
  model.committees.set('bob', ['council']);
  model.documents.set('doc1', 'council');
  const bob = listener('t1', 'bob');
  const dave = listener('t1', 'dave');
  const other = listener('t2', 'bob');
  notifier.subscribe(bob.subscriber);
  const unsubscribeDave = notifier.subscribe(dave.subscriber);
  notifier.subscribe(other.subscriber);
  t.equal(notifier.size, 3);

  const append = async (stream: string, type: DomainEvent['type'], data = {}) =>
    (await eventStore.append(stream, [event(type, data)], ANY, { commandId: `a${++commands}` }))
      .lastGlobalPosition;

  const versionAt = await append('document-t1-doc1', 'VersionCommitted');
  t.ok(versionAt > 0n);
  await append('document-t1-nosuch', 'VersionCommitted');
  const deliveryAt = await append('delivery-t1-20261128', 'DocumentDelivered');
  await notifier.advance(deliveryAt);
  t.same(bob.heard, [deliveryAt], "a version of bob's committee: told once, coalesced per pass");
  t.same(dave.heard, [], 'dave reads no such committee');
  t.same(other.heard, [], 'a user of the same id in another tenant hears nothing');
  t.equal(notifier.position, deliveryAt);

  const joined = await append('committee-t1-finance', 'MembershipChanged', { userId: 'dave' });
  model.committees.set('dave', ['finance']);
  const financeAt = await append('committee-t1-finance', 'KeyEpochStarted');
  const staleTarget = financeAt - 1n;
  await notifier.advance(financeAt);
  await notifier.advance(staleTarget);
  t.same(dave.heard, [financeAt], "a membership record moves the member's own feed");
  t.same(bob.heard, [deliveryAt], 'bob does not read finance');
  t.ok(joined < financeAt);

  const deviceAt = await append('user-t1-bob', 'DeviceCertified');
  model.failCommittees = true;
  await notifier.advance(deviceAt);
  t.same(bob.heard.at(-1), deviceAt, "bob's own feed moved");
  t.equal(errors.length, 1, 'a failed reload of the committees is reported');
  const anyAt = await append('committee-t1-elsewhere', 'KeyEpochStarted');
  await notifier.advance(anyAt);
  t.same(bob.heard.at(-1), anyAt, 'with its committees unknown, every change of the tenant tells');

  unsubscribeDave();
  unsubscribeDave();
  t.equal(notifier.size, 2, 'unsubscribing twice is harmless');
  const financeAgain = await append('committee-t1-finance', 'KeyEpochStarted');
  await notifier.advance(financeAgain);
  t.same(dave.heard, [financeAt], 'an unsubscribed stream hears nothing more');
  await notifier.advance(null);
  notifier.close();
  await eventStore.close();
});

t.test('polls the checkpoint while streams are open, and reports failures', async (t) => {
  const eventStore = await openMemoryEventStore();
  const { model, readModel } = fakeReadModel();
  model.committees.set('bob', ['council']);
  const errors: unknown[] = [];
  const notifier = new FeedNotifier({
    eventStore,
    readModel,
    pollMs: 5,
    onError: (error) => errors.push(error),
  });
  await notifier.start();
  const bob = listener('t1', 'bob');
  notifier.subscribe(bob.subscriber);
  const at = (
    await eventStore.append('committee-t1-council', [event('KeyEpochStarted')], ANY, {
      commandId: 'poll1',
    })
  ).lastGlobalPosition;
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.same(bob.heard, [], 'an event the projector has not applied is not told');
  model.checkpointAt = at;
  for (let i = 0; i < 100 && bob.heard.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.same(bob.heard, [at], 'the polled checkpoint tells');
  model.failCheckpoint = true;
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.ok(errors.length > 0, 'a failing poll is reported and polling goes on');
  notifier.close();
  await eventStore.close();
});

t.test('stops polling once a projector reports through advance', async (t) => {
  const eventStore = await openMemoryEventStore();
  const { model, readModel } = fakeReadModel();
  model.committees.set('bob', ['council']);
  const notifier = new FeedNotifier({ eventStore, readModel, pollMs: 2 });
  t.teardown(async () => {
    notifier.close();
    await eventStore.close();
  });
  await notifier.start();
  const bob = listener('t1', 'bob');
  notifier.subscribe(bob.subscriber);
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.ok(model.checkpointReads > 2, 'an unfed notifier polls while a stream is open');
  const at = (
    await eventStore.append('committee-t1-council', [event('KeyEpochStarted')], ANY, {
      commandId: 'fed1',
    })
  ).lastGlobalPosition;
  await notifier.advance(at);
  t.same(bob.heard, [at], 'the reported checkpoint tells');
  await new Promise((resolve) => setTimeout(resolve, 10));
  const reads = model.checkpointReads;
  model.checkpointAt = at + 100n;
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.equal(model.checkpointReads, reads, 'a fed notifier reads the checkpoint no more');
  notifier.subscribe(listener('t1', 'carol').subscriber);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(model.checkpointReads, reads, 'not even for a stream opened later');
  t.same(bob.heard, [at], 'and tells nothing it was not told');
});
