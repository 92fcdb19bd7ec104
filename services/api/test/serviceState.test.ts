// The service state outside the log, embedded (SQLite file, tokens and challenges in memory) and
// scale-out (PostgreSQL, one schema shared by every API process): one contract for each concern,
// and the cross-process rules on two real PostgreSQL connections.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { LoginChallenges, type LoginChallengeStore } from '../src/auth/loginChallenges.js';
import { MemoryTokenStore, type TokenStore } from '../src/auth/tokenStore.js';
import { PostgresServiceState } from '../src/state/postgresServiceState.js';
import { SqliteServiceState } from '../src/state/sqliteServiceState.js';
import { serviceStateContract } from './helpers/serviceStateContract.js';

const url = process.env['RATSFACH_TEST_PG_URL'];
if (url === undefined || url === '') {
  throw new Error(
    'RATSFACH_TEST_PG_URL is not set: source /work/test-services.env (scripts/pg.sh)',
  );
}

const adminQuery = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
};

/** A throw-away schema, dropped when the test ends. */
const throwAwaySchema = (t: Test): string => {
  const schema = `svc_test_${randomBytes(6).toString('hex')}`;
  t.teardown(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  return schema;
};

/** Opens PostgreSQL states on one schema, each with a pool of its own (its own connections). */
const postgresStates = (t: Test, options: { now?: () => number; challengeTtlMs?: number } = {}) => {
  const schema = throwAwaySchema(t);
  const opened: PostgresServiceState[] = [];
  t.teardown(async () => {
    for (const state of opened) await state.close();
  });
  const open = async () => {
    const state = await PostgresServiceState.open({
      connection: { connectionString: url, max: 2 },
      schema,
      ...options,
    });
    opened.push(state);
    return state;
  };
  return Object.assign(open, { schema });
};

serviceStateContract(t, 'sqlite', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-state-'));
  const path = join(dir, 'service-state.sqlite');
  const opened = [SqliteServiceState.open(path)];
  t.teardown(async () => {
    for (const state of opened) await state.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    state: opened[0]!,
    another: async () => {
      const state = SqliteServiceState.open(path);
      opened.push(state);
      return state;
    },
  };
});

serviceStateContract(t, 'postgres', async (t) => {
  const open = postgresStates(t);
  return { state: await open(), another: open };
});

t.test('postgres: a claim waits for the row lock another process holds', async (t) => {
  const open = postgresStates(t);
  const { schema } = open;
  const state = await open();
  await state.registerCode({
    tenantId: 't1',
    codeId: 'code-1',
    userId: 'alice',
    expiresAt: 2_000_000,
    createdAt: 1_000_000,
    createdBy: 'adm1',
    usedAt: null,
    usedBy: null,
  });

  // Another process's transaction holds the code's row and will use the code itself.
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('BEGIN');
  await other.query(
    `SELECT used_by FROM "${schema}".enrolment_codes WHERE code_id = $1 FOR UPDATE`,
    ['code-1'],
  );
  let settled = false;
  const claim = state.claimCode('t1', 'code-1', 'cmd-mine', 1_500_000).finally(() => {
    settled = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(settled, false, 'the claim waits while the other transaction holds the row');
  await other.query(
    `UPDATE "${schema}".enrolment_codes SET used_at = 1, used_by = 'cmd-other' WHERE code_id = $1`,
    ['code-1'],
  );
  await other.query('COMMIT');
  t.equal(await claim, 'used', 'then sees the code used by the other process');
  t.equal((await state.code('t1', 'code-1'))?.usedBy, 'cmd-other');
});

t.test(
  'postgres: a bad schema name, an unreachable database, a pool the caller owns',
  async (t) => {
    await t.rejects(
      PostgresServiceState.open({ connection: { connectionString: url }, schema: 'x"; DROP' }),
      { code: 'RATSFACH_SERVICE_STATE_OPTIONS_INVALID' },
    );
    await t.rejects(
      PostgresServiceState.open({
        connection: {
          connectionString: 'postgres://nobody@127.0.0.1:1/none',
          connectionTimeoutMillis: 2000,
        },
        schema: 'svc_never',
      }),
      { code: 'RATSFACH_SERVICE_STATE_UNAVAILABLE', kind: 'unavailable' },
    );
    const schema = throwAwaySchema(t);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    t.teardown(() => pool.end());
    const state = await PostgresServiceState.open({ connection: { pool }, schema });
    await state.close();
    await state.close();
    t.equal(
      (await pool.query('SELECT 1 AS one')).rows[0].one,
      1,
      "closing leaves the caller's pool open",
    );
    await t.rejects(state.issue('t1', 'd1'), { code: 'RATSFACH_SERVICE_STATE_UNAVAILABLE' });
    await t.rejects(state.claimCode('t1', 'c', 'x', 1), {
      code: 'RATSFACH_SERVICE_STATE_UNAVAILABLE',
    });
  },
);

/** The contract of a token store. */
function tokenContract(name: string, open: (t: Test, now: () => number) => Promise<TokenStore>) {
  t.test(`${name}: tokens are stored by hash, replaced, deleted`, async (t) => {
    const now = 1_000_000;
    const tokens = await open(t, () => now);
    const grant = { tenantId: 't1', userId: 'alice', deviceId: 'a1', expiresAt: now + 60_000 };
    t.equal(await tokens.get('h1'), null);
    await tokens.put('h1', grant);
    await tokens.put('h2', { ...grant, deviceId: 'a2' });
    t.same(await tokens.get('h1'), grant);
    await tokens.put('h1', { ...grant, expiresAt: now + 1 });
    t.equal((await tokens.get('h1'))?.expiresAt, now + 1, 'replaced');
    await tokens.delete('h1');
    await tokens.delete('never');
    t.equal(await tokens.get('h1'), null);
    t.equal((await tokens.get('h2'))?.deviceId, 'a2');
  });
}

/** The contract of a login-challenge store. */
function challengeContract(
  name: string,
  open: (t: Test, now: () => number) => Promise<LoginChallengeStore>,
) {
  t.test(`${name}: a challenge is taken once, before it expires, by its id`, async (t) => {
    let now = 1_000_000;
    const challenges = await open(t, () => now);
    const first = await challenges.issue('t1', 'd1');
    const second = await challenges.issue('t1', 'd1');
    t.not(first.id, second.id);
    t.notSame(first.entry.challenge, second.entry.challenge, 'fresh random bytes each time');
    t.equal(first.entry.challenge.length, 32);
    t.equal(first.entry.expiresAt, now + 60_000);
    t.same(await challenges.take(first.id), first.entry);
    t.equal(await challenges.take(first.id), null, 'a used challenge is gone');
    t.equal(await challenges.take('00000000-0000-4000-8000-000000000000'), null, 'unknown');
    now += 60_000;
    t.equal(await challenges.take(second.id), null, 'expired');
    t.equal(await challenges.take(second.id), null, 'and gone');
  });
}

tokenContract('memory', async (_t, now) => new MemoryTokenStore(now));
tokenContract('postgres', async (t, now) => postgresStates(t, { now })());
challengeContract(
  'memory',
  async (_t, now) => new LoginChallenges({ ttlMs: 60_000, capacity: 10, now }),
);
challengeContract('postgres', async (t, now) =>
  postgresStates(t, { now, challengeTtlMs: 60_000 })(),
);

t.test('postgres: a token and a challenge of one process are seen by another', async (t) => {
  let now = 1_000_000;
  const open = postgresStates(t, { now: () => now });
  const one = await open();
  const two = await open();
  await one.put('h1', { tenantId: 't1', userId: 'alice', deviceId: 'a1', expiresAt: now + 5 });
  t.equal((await two.get('h1'))?.deviceId, 'a1', 'a token issued by one process is honoured');
  const { id } = await one.issue('t1', 'd1');
  const taken = await Promise.all([one.take(id), two.take(id), two.take(id)]);
  t.equal(taken.filter((e) => e !== null).length, 1, 'three takes racing: one gets it');

  // Expired rows are swept (at most once a minute per process) when new ones are written.
  const stale = await two.issue('t1', 'd2');
  now += 120_000;
  await two.put('h2', { tenantId: 't1', userId: 'alice', deviceId: 'a1', expiresAt: now + 60_000 });
  t.equal(await one.get('h1'), null, 'the expired token was swept');
  t.equal(await one.take(stale.id), null, 'the expired challenge was swept');
  t.equal((await one.get('h2'))?.deviceId, 'a1');
});
