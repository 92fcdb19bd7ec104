import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openSqliteReadModelStore } from '../src/sqlite/index.js';
import { readModelContract } from './contract.js';

readModelContract(t, 'sqlite', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-rm-'));
  const path = join(dir, 'read-model.sqlite');
  const opened = [await openSqliteReadModelStore({ path })];
  t.teardown(async () => {
    for (const store of opened) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    store: opened[0]!,
    async reopen(options = {}) {
      const store = await openSqliteReadModelStore({ path, ...options });
      opened.push(store);
      return store;
    },
  };
});

t.test('sqlite: a file written by a newer schema is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-rm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'rm.sqlite');
  const store = await openSqliteReadModelStore({ path });
  await store.close();
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.prepare(`UPDATE rm_meta SET value = '99' WHERE key = 'schema_version'`).run();
  db.close();
  await t.rejects(openSqliteReadModelStore({ path }), { code: 'RATSFACH_READ_MODEL_SCHEMA_NEWER' });
  await t.rejects(openSqliteReadModelStore({ path: join(dir, 'missing', 'x.sqlite') }), {
    code: 'RATSFACH_READ_MODEL_UNAVAILABLE',
  });
});
