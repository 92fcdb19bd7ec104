import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cryptoReady } from '@ratsfach/crypto';
import t from 'tap';
import { SqliteLocalState } from './sqliteLocalState.js';

await cryptoReady();

const fresh = (): { path: string; state: SqliteLocalState } => {
  const path = join(mkdtempSync(join(tmpdir(), 'ratsfach-state-')), 'state.sqlite');
  return { path, state: new SqliteLocalState(path) };
};

t.test('seen chains survive a restart; a rollback or a fork is then refused', async (t) => {
  const { path, state } = fresh();
  const h = (n: number): Uint8Array => new Uint8Array(64).fill(n);
  const seen = state.seenHeads();
  seen.accept('committee-t-c1', [h(1), h(2), h(3)]);
  seen.accept('tenant-t', [h(9)]);
  state.saveSeenHeads(seen);
  state.close();
  const again = new SqliteLocalState(path);
  t.teardown(() => again.close());
  const restored = again.seenHeads();
  t.same(restored.head('committee-t-c1'), { length: 3, hash: h(3) });
  t.throws(() => restored.accept('committee-t-c1', [h(1), h(2)]), {
    code: 'RATSFACH_CRYPTO_ROLLBACK',
  });
  t.throws(() => restored.accept('committee-t-c1', [h(1), h(2), h(7), h(8)]), {
    name: 'ForkError',
  });
  restored.accept('committee-t-c1', [h(1), h(2), h(3), h(4)]);
  again.saveSeenHeads(restored);
  t.same(
    again
      .seenHeads()
      .heads()
      .map((x) => [x.stream, x.length]),
    [
      ['committee-t-c1', 4],
      ['tenant-t', 1],
    ],
  );
});

t.test('the queue survives a restart and keeps one entry per command id', async (t) => {
  const { path, state } = fresh();
  const first = state.enqueue({ commandId: 'cmd-1', kind: 'commit', payload: { path: 'A/x.txt' } });
  state.enqueue({ commandId: 'cmd-2', kind: 'create', payload: { path: 'A/y.txt' } });
  t.same(
    state.enqueue({ commandId: 'cmd-1', kind: 'commit', payload: {} }),
    first,
    'a retry is not queued twice',
  );
  state.markAttempt(first.seq, 'server unavailable');
  state.close();
  const again = new SqliteLocalState(path);
  t.teardown(() => again.close());
  const queue = again.queue();
  t.same(
    queue.map((q) => [q.commandId, q.kind, q.attempts, q.lastError]),
    [
      ['cmd-1', 'commit', 1, 'server unavailable'],
      ['cmd-2', 'create', 0, null],
    ],
  );
  t.same(queue[0]?.payload, { path: 'A/x.txt' });
  again.dequeue(first.seq);
  t.equal(again.queue().length, 1);
});

t.test('the index maps paths to documents, one document per path', async (t) => {
  const { state } = fresh();
  t.teardown(() => state.close());
  state.putIndexEntry({
    documentId: 'd1',
    committeeId: 'c',
    path: 'A/x.txt',
    version: 1,
    hash: 'h1',
  });
  state.putIndexEntry({
    documentId: 'd1',
    committeeId: 'c',
    path: 'A/y.txt',
    version: 2,
    hash: 'h2',
  });
  t.equal(state.indexEntryAt('A/x.txt'), undefined, 'a rename frees the old path');
  t.same(state.indexEntry('d1'), {
    documentId: 'd1',
    committeeId: 'c',
    path: 'A/y.txt',
    version: 2,
    hash: 'h2',
  });
  state.putIndexEntry({
    documentId: 'd2',
    committeeId: 'c',
    path: 'A/y.txt',
    version: 1,
    hash: 'h3',
  });
  t.equal(state.indexEntry('d1'), undefined, 'the path went to the other document');
  t.same(
    state.index().map((e) => e.documentId),
    ['d2'],
  );
  state.removeIndexEntry('d2');
  t.same(state.index(), []);
  t.equal(state.indexEntry('zz'), undefined);
});

t.test('remote heads, transfers, settings and the cursor round-trip', async (t) => {
  const { state } = fresh();
  t.teardown(() => state.close());
  const doc = {
    documentId: 'd1',
    committeeId: 'c',
    path: 'A/x.txt',
    version: 4,
    hash: 'h',
    size: 12,
    modifiedAt: 99,
    deleted: true,
  };
  state.putRemote(doc);
  t.same(state.remote(), [doc]);
  state.removeRemote('d1');
  t.same(state.remote(), []);
  t.equal(state.cursor(), null);
  state.setCursor('abc');
  t.equal(state.cursor(), 'abc');
  state.setSetting('deviceName', 'laptop');
  t.equal(state.setting('deviceName'), 'laptop');
  state.setSetting('deviceName', null);
  t.equal(state.setting('deviceName'), undefined);
  const progress = { key: 'up:A/x.txt@h', sessionId: 's1', size: 100, done: 40, updatedAt: 5 };
  state.putTransfer(progress);
  t.same(state.transfer(progress.key), progress);
  state.removeTransfer(progress.key);
  t.equal(state.transfer(progress.key), undefined);
});

t.test('a transaction keeps all or nothing', async (t) => {
  const { state } = fresh();
  t.teardown(() => state.close());
  t.throws(() =>
    state.transaction(() => {
      state.setCursor('half');
      throw new Error('crash');
    }),
  );
  t.equal(state.cursor(), null);
  t.equal(
    state.transaction(() => 7),
    7,
  );
});

t.test('clear forgets everything (wipe)', async (t) => {
  const { state } = fresh();
  t.teardown(() => state.close());
  state.setCursor('x');
  const seen = state.seenHeads();
  seen.accept('tenant-t', [new Uint8Array(64)]);
  state.saveSeenHeads(seen);
  state.enqueue({ commandId: 'c', kind: 'k', payload: {} });
  state.putIndexEntry({ documentId: 'd1', committeeId: 'c', path: 'p', version: 1, hash: 'h' });
  state.clear();
  t.same(
    [state.cursor(), state.seenHeads().heads(), state.queue(), state.index()],
    [null, [], [], []],
  );
});

t.test('refuses a file that is not a client state, or from a newer version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-state-'));
  const other = join(dir, 'other.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE events (x)');
  db.close();
  t.throws(() => new SqliteLocalState(other), { code: 'RATSFACH_SYNC_STATE_UNUSABLE' });
  const garbage = join(dir, 'garbage.sqlite');
  writeFileSync(garbage, 'this is not a database at all, not even close'.repeat(20));
  t.throws(() => new SqliteLocalState(garbage), { code: 'RATSFACH_SYNC_STATE_UNUSABLE' });
  const newer = join(dir, 'newer.sqlite');
  new SqliteLocalState(newer).close();
  const raw = new Database(newer);
  raw.pragma('user_version = 99');
  raw.close();
  t.throws(() => new SqliteLocalState(newer), { message: /newer ratsfach/ });
});
