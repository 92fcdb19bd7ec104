import t from 'tap';
import {
  defaultDeletionGuard,
  plan,
  type IndexEntry,
  type LocalFile,
  type PlanInput,
  type RemoteDocument,
  type SyncPlan,
} from './plan.js';

// Committee folders: "A/…" is committee a (writable), "R/…" committee r (read only).
const committeeOf = (path: string): string | null =>
  path.startsWith('A/') ? 'a' : path.startsWith('R/') ? 'r' : null;
const now = new Date('2026-12-03T12:00:00Z');

const synced = (documentId: string, path: string, version: number, hash: string): IndexEntry => ({
  documentId,
  committeeId: committeeOf(path) ?? 'none',
  path,
  version,
  hash,
});
const file = (path: string, hash: string): LocalFile => ({ path, hash, size: 10 });
const head = (
  documentId: string,
  path: string,
  version: number,
  hash: string,
  more: Partial<RemoteDocument> = {},
): RemoteDocument => ({
  documentId,
  committeeId: committeeOf(path) ?? 'none',
  path,
  version,
  hash,
  size: 10,
  modifiedAt: 0,
  deleted: false,
  ...more,
});

/** given(what was synced, what the server shows).when(what is on disk).then(the plan). */
const given = (
  index: IndexEntry[],
  remote: RemoteDocument[],
  options: Partial<PlanInput> = {},
) => ({
  when: (local: LocalFile[]): SyncPlan =>
    plan({
      index,
      local,
      remote,
      committeeOf,
      writable: new Set(['a']),
      lostCommittees: new Set(),
      deviceName: 'laptop',
      now,
      deletionGuard: defaultDeletionGuard,
      confirmDeletions: false,
      ...options,
    }),
});

t.test('nothing changed: nothing to do', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/x.txt', 1, 'h1')]).when([
    file('A/x.txt', 'h1'),
  ]);
  t.same(result, { actions: [], held: [], skipped: [] });
});

t.test('a new remote document is pulled', async (t) => {
  const result = given([], [head('d1', 'A/x.txt', 1, 'h1')]).when([]);
  t.same(result.actions, [
    {
      kind: 'pull',
      documentId: 'd1',
      committeeId: 'a',
      version: 1,
      path: 'A/x.txt',
      hash: 'h1',
      replaces: null,
    },
  ]);
});

t.test('a new remote version of an unchanged file is pulled', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/x.txt', 2, 'h2')]).when([
    file('A/x.txt', 'h1'),
  ]);
  t.same(
    result.actions.map((a) => a.kind),
    ['pull'],
  );
  t.match(result.actions[0], { version: 2, replaces: null });
});

t.test('a remote move of an unchanged file renames it here', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/y/x.txt', 1, 'h1')]).when(
    [file('A/x.txt', 'h1')],
  );
  t.same(result.actions, [
    { kind: 'moveLocal', documentId: 'd1', from: 'A/x.txt', to: 'A/y/x.txt', version: 1 },
  ]);
});

t.test('a remote move with a new version replaces the old path', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/y.txt', 2, 'h2')]).when([
    file('A/x.txt', 'h1'),
  ]);
  t.match(result.actions, [{ kind: 'pull', path: 'A/y.txt', replaces: 'A/x.txt' }]);
});

t.test('a local edit is committed against the synced version', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 3, 'h1')], [head('d1', 'A/x.txt', 3, 'h1')]).when([
    file('A/x.txt', 'h9'),
  ]);
  t.same(result.actions, [
    {
      kind: 'commit',
      documentId: 'd1',
      committeeId: 'a',
      parentVersion: 3,
      path: 'A/x.txt',
      hash: 'h9',
    },
  ]);
});

t.test('a document the server has not shown yet counts as unchanged there', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 3, 'h1')], []).when([file('A/x.txt', 'h9')]);
  t.match(result.actions, [{ kind: 'commit', parentVersion: 3 }]);
});

t.test('a local edit in a read-only committee stays here, reported, not sent', async (t) => {
  const result = given([synced('d1', 'R/x.txt', 1, 'h1')], [head('d1', 'R/x.txt', 1, 'h1')]).when([
    file('R/x.txt', 'h9'),
    file('R/new.txt', 'h5'),
    file('loose.txt', 'h6'),
  ]);
  t.same(result.actions, []);
  t.same(result.skipped, [
    { path: 'R/x.txt', reason: 'readOnly' },
    { path: 'R/new.txt', reason: 'readOnly' },
    { path: 'loose.txt', reason: 'outsideCommittee' },
  ]);
});

t.test('a local deletion is sent; in a read-only committee the file comes back', async (t) => {
  const result = given(
    [synced('d1', 'A/x.txt', 2, 'h1'), synced('d2', 'R/y.txt', 1, 'h2')],
    [head('d1', 'A/x.txt', 2, 'h1'), head('d2', 'R/y.txt', 1, 'h2')],
  ).when([]);
  t.same(result.actions, [
    {
      kind: 'pull',
      documentId: 'd2',
      committeeId: 'r',
      version: 1,
      path: 'R/y.txt',
      hash: 'h2',
      replaces: null,
    },
    { kind: 'deleteRemote', documentId: 'd1', committeeId: 'a', version: 2, path: 'A/x.txt' },
  ]);
});

t.test('a local rename (same bytes under a new name) is sent as a move', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 2, 'h1')], [head('d1', 'A/x.txt', 2, 'h1')]).when([
    file('A/sub/x2.txt', 'h1'),
  ]);
  t.same(result.actions, [
    {
      kind: 'moveRemote',
      documentId: 'd1',
      committeeId: 'a',
      version: 2,
      from: 'A/x.txt',
      to: 'A/sub/x2.txt',
    },
  ]);
});

t.test(
  'a concurrent edit keeps the local edit as a conflict copy and its own document',
  async (t) => {
    const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/x.txt', 2, 'h2')]).when(
      [file('A/x.txt', 'hLocal')],
    );
    const copy = 'A/x (conflict, laptop, 2026-12-03).txt';
    t.same(result.actions, [
      { kind: 'conflictCopy', from: 'A/x.txt', to: copy },
      {
        kind: 'pull',
        documentId: 'd1',
        committeeId: 'a',
        version: 2,
        path: 'A/x.txt',
        hash: 'h2',
        replaces: null,
      },
      { kind: 'create', committeeId: 'a', path: copy, hash: 'hLocal' },
    ]);
  },
);

t.test('a concurrent edit in a read-only committee keeps the copy here only', async (t) => {
  const result = given([synced('d1', 'R/x.txt', 1, 'h1')], [head('d1', 'R/x.txt', 2, 'h2')]).when([
    file('R/x.txt', 'hLocal'),
  ]);
  t.same(
    result.actions.map((a) => a.kind),
    ['conflictCopy', 'pull'],
  );
  t.same(result.skipped, [{ path: 'R/x (conflict, laptop, 2026-12-03).txt', reason: 'readOnly' }]);
});

t.test('identical bytes on both sides are no conflict', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/z.txt', 2, 'h2')]).when([
    file('A/x.txt', 'h2'),
  ]);
  t.same(result.actions, [
    { kind: 'moveLocal', documentId: 'd1', from: 'A/x.txt', to: 'A/z.txt', version: 2 },
    { kind: 'adopt', documentId: 'd1', committeeId: 'a', version: 2, path: 'A/z.txt', hash: 'h2' },
  ]);
});

t.test(
  'a new remote document meeting a different local file of that name: conflict copy',
  async (t) => {
    const result = given([], [head('d1', 'A/x.txt', 1, 'h1')]).when([file('A/x.txt', 'h7')]);
    t.same(
      result.actions.map((a) => a.kind),
      ['conflictCopy', 'pull', 'create'],
    );
  },
);

t.test('a new remote document meeting the same local bytes is adopted', async (t) => {
  const result = given([], [head('d1', 'A/x.txt', 1, 'h1')]).when([file('A/x.txt', 'h1')]);
  t.same(result.actions, [
    { kind: 'adopt', documentId: 'd1', committeeId: 'a', version: 1, path: 'A/x.txt', hash: 'h1' },
  ]);
});

t.test('two documents under one name: the newcomer gets a distinct name', async (t) => {
  const result = given(
    [synced('d1', 'A/x.txt', 1, 'h1')],
    [head('d1', 'A/x.txt', 1, 'h1'), head('d2abcdefgh', 'A/x.txt', 1, 'h2')],
  ).when([file('A/x.txt', 'h1')]);
  t.match(result.actions, [
    { kind: 'pull', documentId: 'd2abcdefgh', path: 'A/x (conflict, d2abcdef, 2026-12-03).txt' },
  ]);
});

t.test('a remote deletion of an unchanged file deletes it here', async (t) => {
  const result = given(
    [synced('d1', 'A/x.txt', 1, 'h1')],
    [head('d1', 'A/x.txt', 1, 'h1', { deleted: true })],
  ).when([file('A/x.txt', 'h1')]);
  t.same(result.actions, [
    { kind: 'deleteLocal', documentId: 'd1', path: 'A/x.txt', reason: 'deleted' },
  ]);
});

t.test(
  'a remote deletion of a file edited here: the edit lives on as a new document',
  async (t) => {
    const result = given(
      [synced('d1', 'A/x.txt', 1, 'h1')],
      [head('d1', 'A/x.txt', 1, 'h1', { deleted: true })],
    ).when([file('A/x.txt', 'h8')]);
    t.same(result.actions, [
      { kind: 'forget', documentId: 'd1' },
      { kind: 'create', committeeId: 'a', path: 'A/x.txt', hash: 'h8' },
    ]);
    const readOnly = given(
      [synced('d1', 'R/x.txt', 1, 'h1')],
      [head('d1', 'R/x.txt', 1, 'h1', { deleted: true })],
    ).when([file('R/x.txt', 'h8')]);
    t.same(readOnly.actions, [{ kind: 'forget', documentId: 'd1' }]);
    t.same(readOnly.skipped, [{ path: 'R/x.txt', reason: 'readOnly' }]);
  },
);

t.test('deleted on both sides: forgotten', async (t) => {
  const result = given(
    [synced('d1', 'A/x.txt', 1, 'h1')],
    [head('d1', 'A/x.txt', 1, 'h1', { deleted: true })],
  ).when([]);
  t.same(result.actions, [{ kind: 'forget', documentId: 'd1' }]);
});

t.test('deleted here, edited there: the remote edit comes back', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/x.txt', 2, 'h2')]).when(
    [],
  );
  t.match(result.actions, [{ kind: 'pull', version: 2 }]);
});

t.test('deleted here, only moved there: the deletion is sent for the moved document', async (t) => {
  const result = given([synced('d1', 'A/x.txt', 1, 'h1')], [head('d1', 'A/y.txt', 1, 'h1')]).when(
    [],
  );
  t.same(result.actions, [
    { kind: 'deleteRemote', documentId: 'd1', committeeId: 'a', version: 1, path: 'A/y.txt' },
  ]);
});

t.test('a new local file in a writable committee is created', async (t) => {
  const result = given([], []).when([file('A/new.txt', 'h3')]);
  t.same(result.actions, [{ kind: 'create', committeeId: 'a', path: 'A/new.txt', hash: 'h3' }]);
});

t.test('lost access deletes the plaintext of that committee, edited or not', async (t) => {
  const result = given(
    [synced('d1', 'R/x.txt', 1, 'h1'), synced('d2', 'R/y.txt', 1, 'h2')],
    [head('d1', 'R/x.txt', 1, 'h1'), head('d3', 'R/z.txt', 1, 'h3')],
    { lostCommittees: new Set(['r']) },
  ).when([file('R/x.txt', 'h9')]);
  t.same(result.actions, [
    { kind: 'deleteLocal', documentId: 'd1', path: 'R/x.txt', reason: 'accessLost' },
    { kind: 'forget', documentId: 'd2' },
  ]);
});

t.test('pulls go newest first, then smallest first', async (t) => {
  const result = given(
    [],
    [
      head('old', 'A/old.txt', 1, 'h1', { modifiedAt: 1, size: 1 }),
      head('bigNew', 'A/big.txt', 1, 'h2', { modifiedAt: 9, size: 900 }),
      head('smallNew', 'A/small.txt', 1, 'h3', { modifiedAt: 9, size: 5 }),
    ],
  ).when([]);
  t.same(
    result.actions.map((a) => (a.kind === 'pull' ? a.documentId : a.kind)),
    ['smallNew', 'bigNew', 'old'],
  );
});

const many = (n: number): IndexEntry[] =>
  Array.from({ length: n }, (_, i) => synced(`d${i}`, `A/f${i}.txt`, 1, `h${i}`));

t.test('a mass deletion from the server is held until confirmed', async (t) => {
  const index = many(10);
  const remote = index.map((e, i) => head(e.documentId, e.path, 1, e.hash, { deleted: i < 6 }));
  const local = index.map((e) => file(e.path, e.hash));
  const held = given(index, remote).when(local);
  t.same(held.actions, []);
  t.match(held.held, [{ direction: 'local', count: 6, total: 10 }]);
  t.equal(held.held[0]?.paths.length, 6);
  const confirmed = given(index, remote, { confirmDeletions: true }).when(local);
  t.equal(confirmed.actions.filter((a) => a.kind === 'deleteLocal').length, 6);
  t.same(confirmed.held, []);
});

t.test('a mass deletion here is held; other changes still go out', async (t) => {
  const index = many(10);
  const local = [file('A/f9.txt', 'changed'), file('A/f8.txt', 'h8'), file('A/f7.txt', 'h7')];
  const result = given(index, []).when(local);
  t.same(
    result.actions.map((a) => a.kind),
    ['commit'],
  );
  t.match(result.held, [{ direction: 'remote', count: 7, total: 10 }]);
});

t.test('deletions under the minimum or the share are never held', async (t) => {
  const index = many(10);
  const local = index.slice(4).map((e) => file(e.path, e.hash));
  t.same(given(index, []).when(local).held, [], '4 deletions are under the minimum of 5');
  const big = many(100);
  const most = big.slice(20).map((e) => file(e.path, e.hash));
  t.same(given(big, []).when(most).held, [], '20 % is under the share of 30 %');
  t.equal(given(big, []).when(most).actions.length, 20);
});
