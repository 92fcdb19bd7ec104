// One contract for every ServiceState: the embedded SQLite file and PostgreSQL pass the same
// cases, failure paths included, and the races between two connections to the same storage.
import type { Test } from 'tap';
import type {
  EnrolmentCodeRow,
  ServiceState,
  SubmissionRow,
  UploadRow,
} from '../../src/state/serviceState.js';

export interface ServiceStateFixture {
  readonly state: ServiceState;
  /** Another connection to the same storage (another API process, in effect). */
  readonly another: () => Promise<ServiceState>;
}

const code = (overrides: Partial<EnrolmentCodeRow> = {}): EnrolmentCodeRow => ({
  tenantId: 't1',
  codeId: 'code-1',
  userId: 'alice',
  expiresAt: 2_000_000,
  createdAt: 1_000_000,
  createdBy: 'adm1',
  usedAt: null,
  usedBy: null,
  ...overrides,
});

const submission = (overrides: Partial<SubmissionRow> = {}): SubmissionRow => ({
  submissionId: 's-1',
  tenantId: 't1',
  codeId: 'code-1',
  userId: 'alice',
  deviceId: 'd1',
  fingerprint: 'f'.repeat(64),
  request: new Uint8Array([1, 2, 3, 0, 255]),
  submittedAt: 1_000_100,
  codeExpiresAt: 2_000_000,
  ...overrides,
});

const upload = (overrides: Partial<UploadRow> = {}): UploadRow => ({
  tenantId: 't1',
  sessionId: 'sess-1',
  deviceId: 'a1',
  committeeId: 'council',
  kind: 'blob',
  hash: 'ab'.repeat(64),
  createdAt: 1_000_000,
  completedAt: null,
  ...overrides,
});

/** Runs the contract against `open`, which gives a fresh, empty state per case. */
export function serviceStateContract(
  t: Test,
  name: string,
  open: (t: Test) => Promise<ServiceStateFixture>,
): void {
  t.test(`${name}: codes are registered once, read and listed per tenant`, async (t) => {
    const { state } = await open(t);
    t.equal(await state.registerCode(code()), true);
    t.equal(await state.registerCode(code({ userId: 'mallory' })), false, 'the id is taken');
    t.equal(
      await state.registerCode(code({ tenantId: 't2' })),
      false,
      'taken in every tenant, so a code id names one person',
    );
    t.equal(await state.registerCode(code({ codeId: 'code-0', createdAt: 999_000 })), true);
    t.equal(await state.registerCode(code({ codeId: 'code-9', tenantId: 't2' })), true);
    t.same(await state.code('t1', 'code-1'), code());
    t.equal(await state.code('t2', 'code-1'), null, "another tenant's code is not found");
    t.equal(await state.code('t1', 'nope'), null);
    t.same(
      (await state.listCodes('t1')).map((c) => c.codeId),
      ['code-0', 'code-1'],
      'oldest first, this tenant only',
    );
    t.same(await state.listCodes('t3'), []);
  });

  t.test(`${name}: a code is claimed once; a used code used again is refused`, async (t) => {
    const { state } = await open(t);
    await state.registerCode(code());
    t.equal(await state.claimCode('t1', 'nope', 'cmd-1', 5), 'unknown');
    t.equal(await state.claimCode('t2', 'code-1', 'cmd-1', 5), 'unknown', 'not across tenants');
    t.equal(await state.claimCode('t1', 'code-1', 'cmd-1', 1_500_000), 'claimed');
    t.equal(await state.claimCode('t1', 'code-1', 'cmd-1', 1_500_001), 'claimed', 'a retry');
    t.equal(await state.claimCode('t1', 'code-1', 'cmd-2', 1_500_002), 'used');
    const used = await state.code('t1', 'code-1');
    t.equal(used?.usedAt, 1_500_000, 'the first claim counts');
    t.equal(used?.usedBy, 'cmd-1');
    t.equal(await state.withdrawCode('t1', 'code-1'), false, 'a used code cannot be withdrawn');

    await state.releaseCode('t1', 'code-1', 'cmd-2');
    t.equal((await state.code('t1', 'code-1'))?.usedBy, 'cmd-1', 'only its holder releases');
    await state.releaseCode('t2', 'code-1', 'cmd-1');
    t.equal((await state.code('t1', 'code-1'))?.usedBy, 'cmd-1', 'not from another tenant');
    await state.releaseCode('t1', 'code-1', 'cmd-1');
    t.same(await state.code('t1', 'code-1'), code(), 'released: unused again');
    t.equal(await state.claimCode('t1', 'code-1', 'cmd-2', 1_600_000), 'claimed');
  });

  t.test(`${name}: submissions: added, duplicate, full; pending ones only`, async (t) => {
    const { state } = await open(t);
    await state.registerCode(code());
    await state.registerCode(code({ codeId: 'code-2' }));
    await state.registerCode(code({ codeId: 'code-x', expiresAt: 1_000_500 }));
    await state.registerCode(code({ codeId: 'code-t2', tenantId: 't2' }));
    t.equal(await state.addSubmission(submission(), 2), 'added');
    t.equal(
      await state.addSubmission(submission({ submissionId: 's-again' }), 2),
      'duplicate',
      'the same device again',
    );
    t.equal(
      await state.addSubmission(submission({ submissionId: 's-2', deviceId: 'd2' }), 2),
      'added',
    );
    t.equal(
      await state.addSubmission(submission({ submissionId: 's-3', deviceId: 'd3' }), 2),
      'full',
    );
    await state.addSubmission(
      submission({ submissionId: 's-4', codeId: 'code-2', deviceId: 'd4', submittedAt: 1_000_050 }),
      2,
    );
    await state.addSubmission(submission({ submissionId: 's-5', codeId: 'code-x' }), 2);
    await state.addSubmission(
      submission({ submissionId: 's-6', codeId: 'code-t2', tenantId: 't2' }),
      2,
    );
    const pending = await state.pendingSubmissions('t1', 1_000_600);
    t.same(
      pending.map((s) => s.submissionId),
      ['s-4', 's-1', 's-2'],
      'in submission order; the expired code and the other tenant left out',
    );
    t.same(pending[1], submission(), 'every field round-trips, the request bytes too');
    await state.claimCode('t1', 'code-2', 'cmd-1', 1_000_700);
    t.same(
      (await state.pendingSubmissions('t1', 1_000_800)).map((s) => s.submissionId),
      ['s-1', 's-2'],
      "a used code's submissions are no longer pending",
    );
    t.equal(await state.withdrawCode('t2', 'code-1'), false, 'not from another tenant');
    t.equal(await state.withdrawCode('t1', 'code-1'), true);
    t.equal(await state.withdrawCode('t1', 'code-1'), false, 'gone already');
    t.same(await state.pendingSubmissions('t1', 1_000_800), [], 'its submissions went with it');
    t.equal(await state.code('t1', 'code-1'), null);
  });

  t.test(`${name}: the directory is per tenant and erasable`, async (t) => {
    const { state } = await open(t);
    const entry = {
      tenantId: 't1',
      userId: 'bob',
      displayName: 'Bob Builder',
      email: 'bob@example.org',
      updatedAt: 10,
    };
    await state.putDirectoryEntry(entry);
    await state.putDirectoryEntry({ ...entry, userId: 'alice', email: null });
    await state.putDirectoryEntry({ ...entry, tenantId: 't2', displayName: 'Other Bob' });
    t.same(await state.directoryEntry('t1', 'bob'), entry);
    await state.putDirectoryEntry({ ...entry, displayName: 'Robert', updatedAt: 11 });
    t.same(await state.directoryEntry('t1', 'bob'), {
      ...entry,
      displayName: 'Robert',
      updatedAt: 11,
    });
    t.same(
      (await state.listDirectory('t1')).map((e) => [e.userId, e.email]),
      [
        ['alice', null],
        ['bob', 'bob@example.org'],
      ],
    );
    t.equal(await state.eraseDirectoryEntry('t2', 'alice'), false, 'not across tenants');
    t.equal(await state.eraseDirectoryEntry('t1', 'bob'), true);
    t.equal(await state.eraseDirectoryEntry('t1', 'bob'), false, 'erased already');
    t.equal(await state.directoryEntry('t1', 'bob'), null);
    t.equal((await state.directoryEntry('t2', 'bob'))?.displayName, 'Other Bob');
  });

  t.test(`${name}: an upload session belongs to its device and committee`, async (t) => {
    const { state, another } = await open(t);
    await state.openUpload(upload());
    await state.openUpload(upload({ sessionId: 'sess-2', kind: 'keyslot', hash: 'cd'.repeat(64) }));
    await state.openUpload(upload({ tenantId: 't2', deviceId: 'x1' }));
    t.same(await state.upload('t1', 'sess-1'), upload(), 'every field round-trips');
    t.equal((await state.upload('t2', 'sess-1'))?.deviceId, 'x1', 'per tenant');
    t.equal(await state.upload('t3', 'sess-1'), null, 'not in another tenant');
    t.equal(await state.upload('t1', 'nope'), null);
    const object = { tenantId: 't1', deviceId: 'a1', committeeId: 'council' };
    const blob = { ...object, kind: 'blob', hash: 'ab'.repeat(64) };
    t.equal(await state.completedUpload(blob), false, 'not before its session completes');

    await state.completeUpload('t1', 'sess-1', 1_000_500);
    const other = await another();
    t.equal(
      (await other.upload('t1', 'sess-1'))?.completedAt,
      1_000_500,
      'another connection sees it completed',
    );
    await state.completeUpload('t1', 'sess-1', 1_000_900);
    t.equal((await state.upload('t1', 'sess-1'))?.completedAt, 1_000_500, 'the first time counts');
    await state.completeUpload('t1', 'nope', 1_000_900);
    t.equal(await state.upload('t1', 'nope'), null, 'completing an unknown session adds none');
    t.equal(await other.completedUpload(blob), true);
    for (const [change, why] of [
      [{ deviceId: 'a2' }, 'another device'],
      [{ committeeId: 'board' }, 'another committee'],
      [{ tenantId: 't2', deviceId: 'x1' }, 'another tenant (its session is not complete)'],
      [{ kind: 'keyslot' }, 'another kind'],
      [{ hash: 'cd'.repeat(64) }, 'another hash (a session not completed)'],
    ] as const) {
      t.equal(await state.completedUpload({ ...blob, ...change }), false, why);
    }
  });

  t.test(`${name}: two connections race for the last use of a code`, async (t) => {
    const { state, another } = await open(t);
    const others = [await another(), await another(), await another()];
    await state.registerCode(code());
    const claims = await Promise.all(
      [state, ...others].map((s, i) => s.claimCode('t1', 'code-1', `cmd-${i}`, 1_500_000 + i)),
    );
    t.equal(claims.filter((c) => c === 'claimed').length, 1, 'one winner');
    t.equal(claims.filter((c) => c === 'used').length, 3, 'the others see it used');
    const winner = `cmd-${claims.indexOf('claimed')}`;
    t.equal((await others[0]!.code('t1', 'code-1'))?.usedBy, winner, 'every connection agrees');

    await state.registerCode(code({ codeId: 'code-2' }));
    await state.addSubmission(submission({ codeId: 'code-2' }), 2);
    const places = await Promise.all(
      others.map((s, i) =>
        s.addSubmission(
          submission({ codeId: 'code-2', submissionId: `s-r${i}`, deviceId: `r${i}` }),
          2,
        ),
      ),
    );
    t.same(
      [...places].sort(),
      ['added', 'full', 'full'],
      'three devices race for the last place under a code: one gets it',
    );
    t.equal((await state.pendingSubmissions('t1', 1_000_000)).length, 2);
  });

  t.test(`${name}: a closed state refuses calls`, async (t) => {
    const { state } = await open(t);
    await state.close();
    await t.rejects(state.code('t1', 'code-1'));
    await t.rejects(state.registerCode(code()));
  });
}
