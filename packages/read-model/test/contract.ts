/**
 * The contract every ReadModelStore passes (SQLite and PostgreSQL): the same events give the
 * same rows as the in-memory fold, batches are atomic with their checkpoint, replays are
 * harmless, queries never cross tenants, and bad input gets its typed error.
 */
import type { Test } from 'tap';
import {
  ConflictError,
  ForbiddenError,
  UnavailableError,
  ValidationError,
  IntegrityError,
} from '@ratsfach/domain';
import { base64urlEncode } from '@ratsfach/domain';
import {
  defineProjection,
  deviceStatusAt,
  allProjections,
  encodeCursor,
  decodeCursor,
  type ManifestEntry,
  type ProjectedEvent,
  type ReadModelStore,
} from '../src/index.js';
import { LoggedScenario, foldRows } from './loggedScenario.js';

/** Opens a fresh, empty store (a new file, a new schema); `reopen` opens the same one again. */
export interface ContractBackend {
  readonly store: ReadModelStore;
  reopen(options?: { projections?: typeof allProjections }): Promise<ReadModelStore>;
}
export type ContractFactory = (t: Test) => Promise<ContractBackend>;

/** The domain scenario of a second tenant (ids equal to the first's on purpose). */
class SecondTenant extends LoggedScenario {
  // The scenario types its tenant as the literal 't1'; every builder reads it from here.
  override readonly tenantId = 't2' as 't1';
}

/** Interleaves logs into one, renumbering positions as one log would (gaps of 3). */
export function mergeLogs(...logs: (readonly ProjectedEvent[])[]): ProjectedEvent[] {
  const merged: ProjectedEvent[] = [];
  const cursors = logs.map(() => 0);
  let position = 0n;
  for (let turn = 0; merged.length < logs.reduce((n, l) => n + l.length, 0); turn++) {
    const i = turn % logs.length;
    const log = logs[i] as readonly ProjectedEvent[];
    const at = cursors[i] as number;
    if (at >= log.length) continue;
    cursors[i] = at + 1;
    position += 3n;
    merged.push({ ...(log[at] as ProjectedEvent), position });
  }
  return merged;
}

async function applyAll(store: ReadModelStore, events: readonly ProjectedEvent[], size = 7) {
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    await store.apply(batch, (batch.at(-1) as ProjectedEvent).position);
  }
}

/** A tenant with a document history, a second tenant with the same ids, and deliveries. */
function world(): { events: ProjectedEvent[]; s: LoggedScenario } {
  const s = new LoggedScenario().withDocument();
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  s.exec(s.createDocument('doc2', 'council', 'alice', 'a1'));
  s.exec(s.commitVersion('doc2', 'alice', 'a1'));
  s.exec(s.recordDelivery({ documentId: 'doc1', version: 2 }));
  s.exec(s.createCommittee('finance'));
  s.exec(s.changeMembership('finance', 'add', 'carol', 'staff'));
  s.exec(s.coSignMembership('finance', 'carol', 'carol', 'cr1'));
  const other = new SecondTenant().standard();
  other.exec(other.createDocument('doc9', 'council', 'alice', 'a1'));
  other.exec(other.commitVersion('doc9', 'alice', 'a1'));
  return { events: mergeLogs(s.logged, other.logged), s };
}

export function readModelContract(t: Test, name: string, open: ContractFactory): void {
  t.test(
    `${name}: rows equal the in-memory fold of the projections, whatever the batching`,
    async (t) => {
      const { events } = world();
      const expected = foldRows(events).snapshot();
      const a = (await open(t)).store;
      await applyAll(a, events, 1);
      t.equal(await a.snapshot(), expected);
      const b = (await open(t)).store;
      await applyAll(b, events, 1000);
      t.equal(await b.snapshot(), expected);
      t.equal(await b.checkpoint(), events.at(-1)?.position);
    },
  );

  t.test(`${name}: authorisation queries, scoped by tenant`, async (t) => {
    const { events, s } = world();
    const store = (await open(t)).store;
    t.equal(await store.checkpoint(), null);
    await applyAll(store, events);
    t.match(await store.tenant('t1'), { tenantId: 't1', rootFingerprint: s.rootFingerprint });
    t.equal(await store.tenant('t3'), null);
    const a1 = await store.deviceStanding('t1', 'a1');
    t.match(a1, {
      tenantId: 't1',
      userId: 'alice',
      deviceId: 'a1',
      admin: false,
      revoked: false,
      revokedAt: null,
    });
    t.equal(typeof a1?.certifiedAt, 'bigint');
    t.equal(deviceStatusAt(a1!, 1_768_000_000), 'valid');
    t.equal(deviceStatusAt(a1!, 1_770_000_000), 'valid', 'valid through notAfter');
    t.equal(deviceStatusAt(a1!, 1_770_000_001), 'expired');
    t.equal(deviceStatusAt(a1!, 1_766_999_999), 'notYetValid');
    t.match(await store.deviceStanding('t1', 'adm1'), { userId: 'admin', admin: true });
    t.equal(await store.deviceStanding('t1', 'zz'), null);
    t.equal(await store.deviceStanding('t3', 'a1'), null, 'no device of another tenant');
    t.same(
      (await store.userDevices('t1', 'bob')).map((d) => d.deviceId),
      ['b1'],
    );
    t.ok(await store.userExists('t1', 'carol'));
    t.notOk(await store.userExists('t1', 'dave'));
    t.ok(await store.committeeExists('t1', 'finance'));
    t.notOk(await store.committeeExists('t2', 'finance'), 'finance exists on t1 only');
    t.same(await store.tenantUsers('t1'), ['alice', 'bob', 'carol'], 'users of t1, sorted');
    t.same(await store.tenantCommittees('t1'), ['council', 'finance'], 'committees of t1 only');
    t.same(await store.tenantCommittees('t3'), [], 'no committees of an unknown tenant');
    t.same(await store.tenantUsers('t3'), [], 'no users of an unknown tenant');
    t.same(
      (await store.memberships('t1', 'carol')).map((m) => [m.committeeId, m.role, m.effective]),
      [['finance', 'staff', true]],
    );
    t.same(await store.memberships('t2', 'carol'), [], 'carol is a member on t1 only');
    t.same(
      (await store.committeeMembers('t1', 'council')).map((m) => [
        m.userId,
        m.role,
        m.effective,
        m.pendingStaffSequence,
      ]),
      [
        ['alice', 'staff', true, null],
        ['bob', 'reader', true, null],
      ],
    );
    const revoke = new LoggedScenario().standard();
    revoke.exec(revoke.revokeDevice('bob', 'b1'));
    const revoked = (await open(t)).store;
    await applyAll(revoked, revoke.logged);
    t.equal(deviceStatusAt((await revoked.deviceStanding('t1', 'b1'))!, 1_768_000_000), 'revoked');
  });

  t.test(`${name}: a device id certified for two users is refused as ambiguous`, async (t) => {
    const s = new LoggedScenario().standard();
    s.exec(s.certifyDevice('carol', 'b1'));
    const store = (await open(t)).store;
    await applyAll(store, s.logged);
    await t.rejects(store.deviceStanding('t1', 'b1'), {
      constructor: IntegrityError,
      code: 'RATSFACH_READ_MODEL_DEVICE_AMBIGUOUS',
    });
    t.equal((await store.userDevices('t1', 'carol')).length, 2);
  });

  t.test(`${name}: feeds page by position`, async (t) => {
    const { events } = world();
    const store = (await open(t)).store;
    await applyAll(store, events);
    const all = await store.committeeFeed('t1', 'council');
    t.equal(all.hasMore, false);
    t.same(
      all.entries.map((e) => e.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    const page = await store.committeeFeed('t1', 'council', { after: 4, limit: 3 });
    t.same(
      page.entries.map((e) => [e.seq, e.type]),
      [
        [5, 'MembershipCoSigned'],
        [6, 'KeyEpochStarted'],
        [7, 'EpochKeysWrapped'],
      ],
    );
    t.equal(page.hasMore, true);
    t.equal((await store.committeeFeed('t1', 'council', { after: 11, limit: 1 })).hasMore, false);
    t.match(page.entries[0], {
      tenantId: 't1',
      committeeId: 'council',
      stream: 'committee-t1-council',
    });
    t.equal(typeof page.entries[0]?.position, 'bigint');
    t.same((await store.committeeFeed('t2', 'council')).entries.length, 9, "t2's own council");
    const bob = await store.userFeed('t1', 'bob');
    t.same(
      bob.entries.map((e) => [e.seq, e.type, e.deviceId, e.committeeId]),
      [
        [1, 'DeviceCertified', 'b1', null],
        [2, 'Joined', null, 'council'],
      ],
    );
    for (const bad of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { after: -1 }]) {
      await t.rejects(
        store.committeeFeed('t1', 'council', bad),
        {
          constructor: ValidationError,
          code: 'RATSFACH_READ_MODEL_OPTIONS_INVALID',
        },
        JSON.stringify(bad),
      );
    }
  });

  t.test(`${name}: documents, version history and blob references`, async (t) => {
    const { events } = world();
    const store = (await open(t)).store;
    await applyAll(store, events);
    t.match(await store.document('t1', 'doc1'), {
      committeeId: 'council',
      status: 'active',
      headVersion: 2,
    });
    t.equal(await store.document('t1', 'doc9'), null, 'doc9 is on t2');
    const versions = await store.documentVersions('t1', 'doc1');
    t.same(
      versions.map((v) => [v.version, v.parentVersion, v.signerUserId]),
      [
        [1, null, 'alice'],
        [2, 1, 'alice'],
      ],
    );
    t.match(versions[0]?.contentHash, /^[0-9a-f]{128}$/);
    const refs: string[] = [];
    for await (const ref of store.blobReferences('t2')) refs.push(`${ref.tenant} ${ref.kind}`);
    t.same(refs, ['t2 blob', 't2 keyslot']);
    let count = 0;
    for await (const ref of store.blobReferences()) {
      t.match(ref.hash, /^[0-9a-f]{128}$/);
      count++;
    }
    t.equal(count, 8, 't1: 3 versions, t2: 1; a blob and a key slot each');
  });

  t.test(`${name}: blob references page through more than one page, each once`, async (t) => {
    const s = new LoggedScenario().standard();
    for (let i = 0; i < 520; i++) {
      s.exec(s.createDocument(`d${i}`, 'council', 'alice', 'a1'));
      s.exec(s.commitVersion(`d${i}`, 'alice', 'a1'));
    }
    const store = (await open(t)).store;
    await applyAll(store, s.logged, 500);
    const seen = new Set<string>();
    for await (const ref of store.blobReferences('t1')) seen.add(`${ref.kind}/${ref.hash}`);
    t.equal(seen.size, 1040);
  });

  t.test(
    `${name}: the audit trail filters by subject and actor and pages by position`,
    async (t) => {
      const s = new LoggedScenario().standard();
      s.exec(s.certifyDevice('alice', 'a2'));
      s.exec(s.certifyDevice('bob', 'b2'));
      // Keys go only to confirmed devices: each user's earlier device confirms the new one.
      s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
      s.exec(s.confirmDevice('bob', 'b2', 'bob', 'b1'));
      s.exec(
        s.wrapEpochKeys(
          'council',
          0,
          [
            { userId: 'alice', deviceId: 'a2' },
            { userId: 'bob', deviceId: 'b2' },
          ],
          'alice',
          'a1',
        ),
      );
      s.exec(s.createDocument('doc1', 'council', 'alice', 'a1'));
      s.exec(s.recordDelivery({ documentId: 'doc1', userId: 'bob', deviceId: 'b1' }));
      const store = (await open(t)).store;
      await applyAll(store, s.logged);
      const doc = await store.auditTrail({
        tenantId: 't1',
        subjectKind: 'document',
        subjectId: 'doc1',
      });
      t.same(
        doc.entries.map((e) => [e.action, e.actorUserId]),
        [
          ['changed', 'alice'],
          ['accessed', 'bob'],
        ],
      );
      const byBob = await store.auditTrail({ tenantId: 't1', actorUserId: 'bob' });
      t.same(
        byBob.entries.map((e) => e.type),
        ['DocumentDelivered'],
      );
      const grants = await store.auditTrail({ tenantId: 't1', subjectKind: 'device' });
      const wrapped = grants.entries.filter((e) => e.type === 'EpochKeysWrapped');
      t.equal(wrapped.length, 3, 'b1 at setup, a2 and b2 now');
      const first = await store.auditTrail({ tenantId: 't1', limit: 1 });
      t.equal(first.entries.length, 1);
      t.equal(first.hasMore, true);
      const rest = await store.auditTrail({
        tenantId: 't1',
        afterPosition: first.entries[0]?.position ?? 0n,
        limit: 10_000,
      });
      t.equal(rest.hasMore, false);
      const whole = await store.auditTrail({ tenantId: 't1', limit: 10_000 });
      t.equal(rest.entries.length + 1, whole.entries.length);
      // A page never splits the entries of one event.
      const lastWrap = s.logged.filter((e) => e.event.type === 'EpochKeysWrapped').at(-1);
      const before = whole.entries.filter((e) => e.position < (lastWrap?.position ?? 0n)).length;
      const cut = await store.auditTrail({ tenantId: 't1', limit: before + 1 });
      t.same(
        cut.entries.slice(before).map((e) => e.index),
        [0, 1],
      );
      t.same((await store.auditTrail({ tenantId: 't3' })).entries, []);
    },
  );

  t.test(`${name}: the manifest delta walks every feed the user reads, in log order`, async (t) => {
    const s = new LoggedScenario().withDocument();
    const store = (await open(t)).store;
    await applyAll(store, s.logged);
    const all: ManifestEntry[] = [];
    let cursor: string | null = null;
    for (let round = 0; round < 20; round++) {
      const delta = await store.manifestDelta({ tenantId: 't1', userId: 'bob', cursor, limit: 3 });
      all.push(...delta.entries);
      cursor = delta.cursor;
      if (!delta.hasMore) break;
    }
    const council = (await store.committeeFeed('t1', 'council')).entries;
    const own = (await store.userFeed('t1', 'bob')).entries;
    t.equal(all.length, council.length + own.length, 'every entry once');
    const positions = all.map((e) => e.position);
    t.same(
      [...positions].sort((a, b) => (a < b ? -1 : 1)),
      positions,
      'in log order',
    );
    t.same(decodeCursor(cursor as string), {
      tenantId: 't1',
      userId: 'bob',
      user: 2,
      committees: { council: 9 },
    });
    const idle = await store.manifestDelta({ tenantId: 't1', userId: 'bob', cursor });
    t.same(idle.entries, []);
    t.equal(idle.cursor, cursor, 'nothing new: the same cursor');
    t.equal(idle.hasMore, false);
    // Ten changes since the cursor: the delta is those ten, not the committee.
    const from = s.logged.length;
    for (let i = 0; i < 10; i++) s.exec(s.commitVersion('doc1', 'alice', 'a1'));
    await applyAll(store, s.since(from));
    const ten = await store.manifestDelta({ tenantId: 't1', userId: 'bob', cursor });
    t.same(
      ten.entries.map((e) => (e.feed === 'committee' ? e.version : null)),
      [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
  });

  t.test(
    `${name}: joining reads the committee from its start; leaving stops at the removal`,
    async (t) => {
      const s = new LoggedScenario().withDocument();
      s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
      const store = (await open(t)).store;
      await applyAll(store, s.logged);
      const before = await store.manifestDelta({ tenantId: 't1', userId: 'carol', cursor: null });
      t.same(
        before.entries.map((e) => e.type),
        ['DeviceCertified'],
        'not co-signed: nothing of council',
      );
      let from = s.logged.length;
      s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
      await applyAll(store, s.since(from));
      const joined = await store.manifestDelta({
        tenantId: 't1',
        userId: 'carol',
        cursor: before.cursor,
      });
      const types = joined.entries.map((e) => e.type);
      t.equal(types.filter((x) => x === 'Joined').length, 1);
      t.equal(
        joined.entries.filter((e) => e.feed === 'committee').length,
        11,
        'the whole council feed',
      );
      from = s.logged.length;
      s.exec(s.changeMembership('council', 'remove', 'carol', 'reader'));
      const keyHolders = [
        { userId: 'alice', deviceId: 'a1' },
        { userId: 'bob', deviceId: 'b1' },
      ];
      s.exec(s.startKeyEpoch('council', 1, keyHolders, 'alice', 'a1'));
      s.exec(s.commitVersion('doc1', 'alice', 'a1'));
      await applyAll(store, s.since(from));
      const left = await store.manifestDelta({
        tenantId: 't1',
        userId: 'carol',
        cursor: joined.cursor,
      });
      t.same(left.entries.map((e) => e.type).sort(), ['Left', 'MembershipChanged']);
      t.same(await store.manifestCommittees('t1', 'carol'), [
        { committeeId: 'council', role: 'reader', leftAtSeq: 12 },
      ]);
      const after = await store.manifestDelta({
        tenantId: 't1',
        userId: 'carol',
        cursor: left.cursor,
      });
      t.same(after.entries, [], 'the epoch and version after the removal are not shown');
    },
  );

  t.test(
    `${name}: refuses a cursor of another user, tenant or committee, or from the future`,
    async (t) => {
      const { events } = world();
      const store = (await open(t)).store;
      await applyAll(store, events);
      const bobs = (await store.manifestDelta({ tenantId: 't1', userId: 'bob', cursor: null }))
        .cursor;
      const ask = (userId: string, cursor: string, tenantId = 't1') =>
        store.manifestDelta({ tenantId, userId, cursor });
      const foreign = { constructor: ForbiddenError, code: 'RATSFACH_READ_MODEL_CURSOR_FOREIGN' };
      const future = { constructor: ValidationError, code: 'RATSFACH_READ_MODEL_CURSOR_FUTURE' };
      await t.rejects(ask('alice', bobs), foreign, "bob's cursor for alice");
      await t.rejects(ask('bob', bobs, 't2'), foreign, "t1's cursor on t2");
      const withFinance = encodeCursor({
        tenantId: 't1',
        userId: 'bob',
        user: 0,
        committees: { finance: 0 },
      });
      await t.rejects(ask('bob', withFinance), foreign, 'a committee bob never read');
      const aheadCommittee = encodeCursor({
        tenantId: 't1',
        userId: 'bob',
        user: 0,
        committees: { council: 13 },
      });
      await t.rejects(ask('bob', aheadCommittee), future, 'past the committee head');
      const aheadUser = encodeCursor({ tenantId: 't1', userId: 'bob', user: 3, committees: {} });
      await t.rejects(ask('bob', aheadUser), future, 'past the user-feed head');
      const atHead = encodeCursor({
        tenantId: 't1',
        userId: 'bob',
        user: 2,
        committees: { council: 12 },
      });
      t.same((await ask('bob', atHead)).entries, [], 'exactly at the heads is fine');
      const garbage = 'm1.' + base64urlEncode(new TextEncoder().encode('{"c":{}}'));
      await t.rejects(ask('bob', garbage), {
        constructor: ValidationError,
        code: 'RATSFACH_READ_MODEL_CURSOR_INVALID',
      });
      await t.rejects(
        store.manifestDelta({ tenantId: 't1', userId: 'bob', cursor: null, limit: 0 }),
        {
          code: 'RATSFACH_READ_MODEL_OPTIONS_INVALID',
        },
      );
    },
  );

  t.test(`${name}: a batch and its checkpoint commit together or not at all`, async (t) => {
    const s = new LoggedScenario().withDocument();
    const backend = await open(t);
    const half = Math.floor(s.logged.length / 2);
    await applyAll(backend.store, s.logged.slice(0, half));
    const snapshot = await backend.store.snapshot();
    const checkpoint = await backend.store.checkpoint();
    // A projection that fails on the batch's third event, after rows of the first two were made.
    let calls = 0;
    const failing = defineProjection({
      name: 'failing',
      canHandle: [...new Set(s.logged.map((e) => e.event.type))],
      evolve: () => {
        calls++;
        if (calls === 3) throw new Error('disk full (simulated)');
        return [];
      },
    });
    const broken = await backend.reopen({ projections: [...allProjections, failing] });
    await t.rejects(broken.apply(s.since(half), s.logged.at(-1)!.position), {
      message: 'disk full (simulated)',
    });
    t.equal(await broken.snapshot(), snapshot, 'no row of the failed batch is visible');
    t.equal(await broken.checkpoint(), checkpoint, 'the checkpoint did not move');
    await broken.apply(s.since(half), s.logged.at(-1)!.position);
    t.equal(await broken.snapshot(), foldRows(s.logged).snapshot(), 'the same store recovers');
  });

  t.test(`${name}: a replayed batch is harmless; batches out of order are refused`, async (t) => {
    const s = new LoggedScenario().withDocument();
    const store = (await open(t)).store;
    await applyAll(store, s.logged, 4);
    const expected = foldRows(s.logged).snapshot();
    await store.apply(s.logged.slice(3, 9), s.logged.at(-1)!.position);
    await applyAll(store, s.logged, 5);
    t.equal(await store.snapshot(), expected, 'events at or below the checkpoint are skipped');
    const invalid = { constructor: ValidationError, code: 'RATSFACH_READ_MODEL_BATCH_INVALID' };
    const [a, b] = [s.logged[0]!, s.logged[1]!];
    const fresh = (await open(t)).store;
    await t.rejects(fresh.apply([b, a], b.position), invalid, 'out of order');
    await t.rejects(fresh.apply([a, a], a.position), invalid, 'a position twice');
    await t.rejects(fresh.apply([a, b], a.position), invalid, 'checkpoint below the last event');
    await fresh.apply([a], a.position + 10n);
    await fresh.apply([a], a.position + 5n);
    t.equal(await fresh.checkpoint(), a.position + 10n, 'a batch already applied is a no-op');
    await fresh.apply([], a.position + 20n);
    t.equal(await fresh.checkpoint(), a.position + 20n, 'an empty batch moves the checkpoint');
  });

  t.test(
    `${name}: a second projector on the same read model is refused, then catches up`,
    async (t) => {
      const s = new LoggedScenario().withDocument();
      const backend = await open(t);
      const first = backend.store;
      const second = await backend.reopen();
      const [e0, e1, e2] = [s.logged.slice(0, 5), s.logged.slice(5, 10), s.logged.slice(10)];
      await first.apply(e0, e0.at(-1)!.position);
      await second.apply(e0, e0.at(-1)!.position);
      await first.apply(e1, e1.at(-1)!.position);
      await t.rejects(second.apply(e2, e2.at(-1)!.position), {
        constructor: ConflictError,
        code: 'RATSFACH_READ_MODEL_CHECKPOINT_MOVED',
      });
      await second.apply(e2, e2.at(-1)!.position);
      t.equal(
        await first.snapshot(),
        foldRows(s.logged).snapshot(),
        'after reloading, the second goes on correctly',
      );
    },
  );

  t.test(`${name}: reset empties every read model; a closed store refuses calls`, async (t) => {
    const { events } = world();
    const backend = await open(t);
    const store = backend.store;
    await applyAll(store, events);
    await store.reset();
    t.equal(await store.checkpoint(), null);
    t.equal(await store.snapshot(), foldRows([]).snapshot());
    await applyAll(store, events);
    t.equal(
      await store.snapshot(),
      foldRows(events).snapshot(),
      'applies again from the start after a reset',
    );
    const other = await backend.reopen();
    await other.close();
    await other.close();
    await t.rejects(other.checkpoint(), {
      constructor: UnavailableError,
      code: 'RATSFACH_READ_MODEL_CLOSED',
    });
    await t.rejects(other.apply([], 1n), { code: 'RATSFACH_READ_MODEL_CLOSED' });
  });
}
