import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { openPostgresReadModelStore } from '../src/postgres/index.js';
import { readModelContract } from './contract.js';

/** The shared test database (see /work/test-services.env or scripts/pg.sh). */
export function testPostgresUrl(): string {
  const url = process.env['RATSFACH_TEST_PG_URL'];
  if (url === undefined || url === '') {
    throw new Error(
      'RATSFACH_TEST_PG_URL is not set: start PostgreSQL with scripts/pg.sh and export its URL',
    );
  }
  return url;
}

const url = testPostgresUrl();
const adminQuery = async (sql: string): Promise<void> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

readModelContract(t, 'postgres', async (t) => {
  // A throw-away schema per case, so test files running in parallel never share rows.
  const schema = `rm_test_${randomBytes(6).toString('hex')}`;
  const connection = { connectionString: url, max: 4 };
  const opened = [await openPostgresReadModelStore({ connection, schema })];
  t.teardown(async () => {
    for (const store of opened) await store.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return {
    store: opened[0]!,
    async reopen(options = {}) {
      const store = await openPostgresReadModelStore({ connection, schema, ...options });
      opened.push(store);
      return store;
    },
  };
});

t.test('postgres: a schema written by newer code, a bad schema name, no database', async (t) => {
  const schema = `rm_test_${randomBytes(6).toString('hex')}`;
  t.teardown(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  const store = await openPostgresReadModelStore({ connection: { connectionString: url }, schema });
  await store.close();
  await adminQuery(`UPDATE "${schema}".rm_meta SET value = '99' WHERE key = 'schema_version'`);
  await t.rejects(openPostgresReadModelStore({ connection: { connectionString: url }, schema }), {
    code: 'RATSFACH_READ_MODEL_SCHEMA_NEWER',
  });
  await t.rejects(
    openPostgresReadModelStore({ connection: { connectionString: url }, schema: 'x"; DROP' }),
    {
      code: 'RATSFACH_READ_MODEL_OPTIONS_INVALID',
    },
  );
  await t.rejects(
    openPostgresReadModelStore({
      connection: {
        connectionString: 'postgres://nobody@127.0.0.1:1/none',
        connectionTimeoutMillis: 2000,
      },
      schema: 'rm_x',
    }),
    { code: 'RATSFACH_READ_MODEL_UNAVAILABLE' },
  );
});
