import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IntegrityError } from '@ratsfach/kernel';
import t from 'tap';
import { SqliteLocalState } from './sqliteLocalState.js';

const fresh = (): { path: string; state: SqliteLocalState } => {
  const path = join(mkdtempSync(join(tmpdir(), 'ratsfach-state-')), 'state.sqlite');
  return { path, state: new SqliteLocalState(path) };
};

t.test('seen heads move forward and refuse a rollback or a fork', async (t) => {
  const { state } = fresh();
  t.teardown(() => state.close());
  state.recordHead({ chain: 'committee:c1', position: 3, hash: 'aa' });
  state.recordHead({ chain: 'committee:c1', position: 3, hash: 'aa' });
  state.recordHead({ chain: 'committee:c1', position: 5, hash: 'bb' });
  t.same(state.head('committee:c1'), { chain: 'committee:c1', position: 5, hash: 'bb' });
  t.throws(() => state.recordHead({ chain: 'committee:c1', position: 4, hash: 'cc' }), {
    code: 'RATSFACH_SYNC_ROLLBACK',
  });
  const fork = (() => {
    try {
      state.recordHead({ chain: 'committee:c1', position: 5, hash: 'dd' });
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  t.ok(fork instanceof IntegrityError, 'a second hash at a seen position is refused');
  t.match((fork as IntegrityError).hint, /ratsfach heads/);
  t.same(state.head('committee:c1')?.hash, 'bb', 'the refused head changed nothing');
  t.equal(state.head('tenant'), undefined);
  t.equal(state.heads().length, 1);
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
  state.recordHead({ chain: 'tenant', position: 1, hash: 'a' });
  state.enqueue({ commandId: 'c', kind: 'k', payload: {} });
  state.putIndexEntry({ documentId: 'd1', committeeId: 'c', path: 'p', version: 1, hash: 'h' });
  state.clear();
  t.same([state.cursor(), state.heads(), state.queue(), state.index()], [null, [], [], []]);
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
