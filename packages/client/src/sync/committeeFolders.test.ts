import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SqliteLocalState } from '../node/sqliteLocalState.js';
import { committeeFoldersSetting, makeCommitteeFolders } from './committeeFolders.js';

const world = (t: { teardown(fn: () => unknown): void }) => {
  const root = mkdtempSync(join(tmpdir(), 'ratsfach-folders-'));
  const state = new SqliteLocalState(
    join(mkdtempSync(join(tmpdir(), 'ratsfach-folders-state-')), 's.sqlite'),
  );
  t.teardown(() => {
    state.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, state };
};

t.test('a folder per readable committee, made once, again after leaving and joining', async (t) => {
  const { root, state } = world(t);
  // One made by hand already: kept as it is, and not announced as new.
  mkdirSync(join(root, 'bau'));
  writeFileSync(join(root, 'bau', 'mine.txt'), 'mine');
  const first = await makeCommitteeFolders(root, state, ['finanz', 'bau', 'finanz'], []);
  t.same(first, { created: ['finanz'], failed: [] });
  t.ok(statSync(join(root, 'finanz')).isDirectory());
  t.ok(existsSync(join(root, 'bau', 'mine.txt')));
  t.same(JSON.parse(state.setting(committeeFoldersSetting) ?? ''), ['bau', 'finanz']);

  // The person removes the empty folder: the next syncs leave it gone.
  rmSync(join(root, 'finanz'), { recursive: true });
  t.same(await makeCommitteeFolders(root, state, ['finanz', 'bau'], []), {
    created: [],
    failed: [],
  });
  t.notOk(existsSync(join(root, 'finanz')));

  // Leaving the committee and joining again makes it once more.
  t.same(await makeCommitteeFolders(root, state, [], ['finanz']), { created: [], failed: [] });
  t.same(await makeCommitteeFolders(root, state, ['finanz'], []), {
    created: ['finanz'],
    failed: [],
  });
  t.ok(statSync(join(root, 'finanz')).isDirectory());
});

t.test('a committee the same pass says was left gets no folder', async (t) => {
  const { root, state } = world(t);
  t.same(await makeCommitteeFolders(root, state, ['finanz'], ['finanz']), {
    created: [],
    failed: [],
  });
  t.notOk(existsSync(join(root, 'finanz')));
});

t.test('a file in the way or a folder that cannot be written: a typed problem', async (t) => {
  const { root, state } = world(t);
  writeFileSync(join(root, 'finanz'), 'a file named like the committee');
  const blocked = await makeCommitteeFolders(root, state, ['finanz', 'bau'], []);
  t.same(blocked.created, ['bau'], 'the other committee still gets its folder');
  t.match(blocked.failed, [
    {
      committeeId: 'finanz',
      path: 'finanz',
      code: 'RATSFACH_SYNC_FOLDER_FAILED',
      message: /finanz for committee finanz could not be made/,
      hint: /a file named finanz is in the way/,
    },
  ]);
  t.same(
    JSON.parse(state.setting(committeeFoldersSetting) ?? ''),
    ['bau'],
    'tried again next sync',
  );

  // Once the file is moved away, the next sync makes the folder.
  rmSync(join(root, 'finanz'));
  t.same(await makeCommitteeFolders(root, state, ['finanz'], []), {
    created: ['finanz'],
    failed: [],
  });

  // A synced folder nobody may make folders in (sysfs refuses even root).
  const denied = await makeCommitteeFolders('/sys', state, ['rat'], []);
  t.match(denied.failed, [
    { committeeId: 'rat', hint: /check that the synced folder can be written to/ },
  ]);
});
