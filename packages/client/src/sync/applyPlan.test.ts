import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { NodeFileSystem, plaintextHash } from '../node/nodeFileSystem.js';
import { SqliteLocalState } from '../node/sqliteLocalState.js';
import { applyPlan, type ContentSource } from './applyPlan.js';
import { defaultDeletionGuard, plan, type RemoteDocument } from './plan.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
/** Bytes staged in the tree's engine folder, as the pull leaves verified content. */
const stagedIn = async (fs: NodeFileSystem, bytes: Uint8Array) => {
  const staged = await fs.stage();
  await staged.write(bytes);
  await staged.commit();
  return staged;
};
const h = (value: string): string => plaintextHash(text(value));

const world = () => {
  const root = mkdtempSync(join(tmpdir(), 'ratsfach-apply-'));
  const fs = new NodeFileSystem(root);
  const state = new SqliteLocalState(
    join(mkdtempSync(join(tmpdir(), 'ratsfach-apply-state-')), 's.sqlite'),
  );
  const versions = new Map<string, string>();
  const content: ContentSource = {
    staged: async (documentId, version) => {
      const value = versions.get(`${documentId}@${version}`);
      if (value === undefined) throw new Error(`no content for ${documentId}@${version}`);
      return stagedIn(fs, text(value));
    },
  };
  const remote = (
    documentId: string,
    path: string,
    version: number,
    value: string,
    deleted = false,
  ): RemoteDocument => {
    versions.set(`${documentId}@${version}`, value);
    return {
      documentId,
      committeeId: 'a',
      path,
      version,
      hash: h(value),
      size: value.length,
      modifiedAt: 0,
      deleted,
    };
  };
  const sync = async (remoteDocs: RemoteDocument[], confirmDeletions = false) => {
    const scan = await fs.scan();
    const decided = plan({
      index: state.index(),
      local: scan.files,
      remote: remoteDocs,
      committeeOf: (path) => (path.startsWith('A/') ? 'a' : null),
      writable: new Set(['a']),
      lostCommittees: new Set(),
      deviceName: 'laptop',
      now: new Date('2026-12-03T12:00:00Z'),
      deletionGuard: defaultDeletionGuard,
      confirmDeletions,
    });
    return {
      decided,
      report: await applyPlan(decided, { fs, state, content, hash: plaintextHash }),
    };
  };
  const read = (path: string): string => readFileSync(join(root, path), 'utf8');
  const write = (path: string, value: string): void => writeFileSync(join(root, path), value);
  return { root, fs, state, remote, sync, read, write };
};

t.test('pulls new documents, then a new version, a move and a deletion', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  let report = (
    await w.sync([w.remote('d1', 'A/x.txt', 1, 'one'), w.remote('d2', 'A/sub/y.txt', 1, 'why')])
  ).report;
  t.same(report, { applied: 2, queued: 0, failed: [] });
  t.equal(w.read('A/x.txt'), 'one');
  t.equal(w.read('A/sub/y.txt'), 'why');
  t.same(w.state.indexEntry('d1'), {
    documentId: 'd1',
    committeeId: 'a',
    path: 'A/x.txt',
    version: 1,
    hash: h('one'),
  });

  report = (
    await w.sync([w.remote('d1', 'A/x.txt', 2, 'two'), w.remote('d2', 'A/moved/y.txt', 1, 'why')])
  ).report;
  t.equal(report.applied, 2);
  t.equal(w.read('A/x.txt'), 'two');
  t.equal(w.read('A/moved/y.txt'), 'why');
  t.notOk(existsSync(join(w.root, 'A/sub')), 'the emptied folder went with the move');
  t.equal(w.state.indexEntry('d2')?.path, 'A/moved/y.txt');

  report = (
    await w.sync([
      w.remote('d1', 'A/x.txt', 2, 'two', true),
      w.remote('d2', 'A/moved/y.txt', 1, 'why'),
    ])
  ).report;
  t.equal(report.applied, 1);
  t.notOk(existsSync(join(w.root, 'A/x.txt')));
  t.equal(w.state.indexEntry('d1'), undefined);
});

t.test(
  'a concurrent edit: the remote version is written, the local edit kept as a queued copy',
  async (t) => {
    const w = world();
    t.teardown(() => w.state.close());
    await w.sync([w.remote('d1', 'A/x.txt', 1, 'base')]);
    w.write('A/x.txt', 'local edit');
    const { report } = await w.sync([w.remote('d1', 'A/x.txt', 2, 'remote edit')]);
    t.same(report.failed, []);
    t.equal(w.read('A/x.txt'), 'remote edit');
    const copy = 'A/x (conflict, laptop, 2026-12-03).txt';
    t.equal(w.read(copy), 'local edit', 'the local edit is kept next to it');
    const queue = w.state.queue();
    t.same(
      queue.map((q) => [q.kind, q.payload['path']]),
      [['create', copy]],
    );
    const again = await w.sync([w.remote('d1', 'A/x.txt', 2, 'remote edit')]);
    t.equal(again.report.queued, 0, 'planning the same change again queues nothing new');
    t.equal(w.state.queue().length, 1);
  },
);

t.test('local edits, renames and deletions are queued, not applied here', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  await w.sync([
    w.remote('d1', 'A/x.txt', 1, 'x'),
    w.remote('d2', 'A/y.txt', 1, 'y'),
    w.remote('d3', 'A/z.txt', 1, 'z'),
  ]);
  w.write('A/x.txt', 'x2');
  w.write('A/new.txt', 'brand new');
  await w.fs.rename('A/y.txt', 'A/y-renamed.txt');
  await w.fs.remove('A/z.txt');
  const { report } = await w.sync([]);
  t.same(report, { applied: 0, queued: 4, failed: [] });
  t.same(
    w.state
      .queue()
      .map((q) => q.kind)
      .sort(),
    ['commit', 'create', 'deleteRemote', 'moveRemote'],
  );
});

t.test('a file edited after the scan is not overwritten; the rest goes on', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  await w.sync([w.remote('d1', 'A/x.txt', 1, 'base'), w.remote('d2', 'A/y.txt', 1, 'y')]);
  const scan = await w.fs.scan();
  const decided = plan({
    index: w.state.index(),
    local: scan.files,
    remote: [w.remote('d1', 'A/x.txt', 2, 'remote'), w.remote('d2', 'A/y.txt', 2, 'y2')],
    committeeOf: () => 'a',
    writable: new Set(['a']),
    lostCommittees: new Set(),
    deviceName: 'laptop',
    now: new Date(),
    deletionGuard: defaultDeletionGuard,
    confirmDeletions: false,
  });
  w.write('A/x.txt', 'typed in between');
  const content: ContentSource = {
    staged: async (id, version) =>
      stagedIn(w.fs, text(id === 'd1' ? 'remote' : version === 2 ? 'y2' : 'y')),
  };
  const report = await applyPlan(decided, {
    fs: w.fs,
    state: w.state,
    content,
    hash: plaintextHash,
  });
  t.equal(w.read('A/x.txt'), 'typed in between', 'the edit survived');
  t.equal(w.read('A/y.txt'), 'y2', 'the other file was still pulled');
  t.match(report.failed, [{ code: 'RATSFACH_SYNC_FILE_UNSTABLE', action: { documentId: 'd1' } }]);
  t.equal(w.state.indexEntry('d1')?.version, 1, 'the index still says what is on disk');
});

t.test('content that does not match the planned hash is not written', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  const doc = w.remote('d1', 'A/x.txt', 1, 'expected');
  const decided = {
    actions: [
      {
        kind: 'pull' as const,
        documentId: 'd1',
        committeeId: 'a',
        version: 1,
        path: 'A/x.txt',
        hash: doc.hash,
        replaces: null,
      },
    ],
    held: [],
    skipped: [],
  };
  const report = await applyPlan(decided, {
    fs: w.fs,
    state: w.state,
    content: { staged: async () => stagedIn(w.fs, text('something else')) },
    hash: plaintextHash,
  });
  t.equal(report.failed.length, 1);
  t.notOk(existsSync(join(w.root, 'A/x.txt')));
  const broken = await applyPlan(decided, {
    fs: w.fs,
    state: w.state,
    content: { staged: async () => Promise.reject('offline') },
    hash: plaintextHash,
  });
  t.match(broken.failed, [
    { code: 'RATSFACH_SYNC_UNEXPECTED', message: 'offline', hint: /next sync/ },
  ]);
});

t.test('a mass deletion is held and nothing is deleted until confirmed', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  const docs = Array.from({ length: 6 }, (_, i) => w.remote(`d${i}`, `A/f${i}.txt`, 1, `v${i}`));
  await w.sync(docs);
  const gone = docs.map((d) => ({ ...d, deleted: true }));
  const held = await w.sync(gone);
  t.equal(held.decided.held.length, 1);
  t.equal(held.report.applied, 0);
  t.ok(existsSync(join(w.root, 'A/f0.txt')));
  const confirmed = await w.sync(gone, true);
  t.equal(confirmed.report.applied, 6);
  t.notOk(existsSync(join(w.root, 'A/f0.txt')));
});

t.test(
  'a move with a new version replaces the old path; same bytes are adopted; both deleted are forgotten',
  async (t) => {
    const w = world();
    t.teardown(() => w.state.close());
    await w.sync([w.remote('d1', 'A/x.txt', 1, 'one'), w.remote('d2', 'A/y.txt', 1, 'y')]);
    w.write('A/y.txt', 'same on both sides');
    await w.sync([
      w.remote('d1', 'A/new/x.txt', 2, 'two'),
      w.remote('d2', 'A/y.txt', 2, 'same on both sides'),
    ]);
    t.notOk(existsSync(join(w.root, 'A/x.txt')), 'the old path is gone');
    t.equal(w.read('A/new/x.txt'), 'two');
    t.equal(w.state.indexEntry('d2')?.version, 2, 'identical bytes adopted as version 2');
    await w.fs.remove('A/y.txt');
    const { report } = await w.sync([
      w.remote('d1', 'A/new/x.txt', 2, 'two'),
      w.remote('d2', 'A/y.txt', 2, 'same on both sides', true),
    ]);
    t.equal(report.applied, 1);
    t.equal(w.state.indexEntry('d2'), undefined);
  },
);

t.test('lost access deletes the plaintext and the remote head of that committee', async (t) => {
  const w = world();
  t.teardown(() => w.state.close());
  const doc = w.remote('d1', 'A/x.txt', 1, 'secret');
  await w.sync([doc]);
  w.state.putRemote(doc);
  const decided = {
    actions: [
      {
        kind: 'deleteLocal' as const,
        documentId: 'd1',
        path: 'A/x.txt',
        reason: 'accessLost' as const,
      },
    ],
    held: [],
    skipped: [],
  };
  const report = await applyPlan(decided, {
    fs: w.fs,
    state: w.state,
    content: { staged: async () => stagedIn(w.fs, text('')) },
    hash: plaintextHash,
  });
  t.equal(report.applied, 1);
  t.notOk(existsSync(join(w.root, 'A/x.txt')));
  t.same(w.state.remote(), []);
  t.same(w.state.index(), []);
});
