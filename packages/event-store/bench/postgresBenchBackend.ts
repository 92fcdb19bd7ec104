/**
 * PostgreSQL for the event-store benchmark: the adapter against plain `pg` inserting into the
 * same table shape with the same durability (synchronous_commit on, each append one committed
 * transaction). Database: RATSFACH_BENCH_PG_URL, else RATSFACH_TEST_PG_URL, else the address
 * `scripts/pg.sh start` prints.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresEventStore } from '../src/postgres/index.js';
import type { BenchBackend, RawDriver } from './benchHarness.js';

const url =
  process.env['RATSFACH_BENCH_PG_URL'] ??
  process.env['RATSFACH_TEST_PG_URL'] ??
  'postgres://postgres@127.0.0.1:54329/ratsfach';

const suffix = randomBytes(4).toString('hex');
const adapterSchema = `bench_adapter_${suffix}`;
const rawSchema = `bench_raw_${suffix}`;
const fixedHash = Buffer.alloc(64, 7);

/** The adapter's table (see postgresSchema.ts), positions from a sequence default. */
const rawTableSql = `
CREATE SCHEMA "${rawSchema}";
CREATE TABLE "${rawSchema}".events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream text NOT NULL,
  revision bigint NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  data bytea NOT NULL,
  metadata bytea NOT NULL,
  hash bytea NOT NULL,
  prev_hash bytea NOT NULL,
  command_id text NOT NULL,
  UNIQUE (stream, revision)
);`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const benchBackend: BenchBackend = {
  label: 'PostgreSQL 15 (pg 8, synchronous_commit=on, fsync=on)',
  openAdapter: () =>
    openPostgresEventStore({
      connection: { connectionString: url, max: 12 },
      schema: adapterSchema,
    }),
  async openRaw(): Promise<RawDriver> {
    await admin(rawTableSql);
    // One connection per concurrent writer: each raw append is its own transaction, and the
    // server's own WAL group flush is all the batching the raw driver gets.
    const pool = new pg.Pool({ connectionString: url, max: 64 });
    const insert = `INSERT INTO "${rawSchema}".events
        (stream, revision, event_id, type, data, metadata, hash, prev_hash, command_id)
      SELECT $1, $2::bigint + o - 1, e, t, d, m, $7, $7, $8
        FROM unnest($3::uuid[], $4::text[], $5::bytea[], $6::bytea[]) WITH ORDINALITY AS x(e, t, d, m, o)`;
    const insertOne = `INSERT INTO "${rawSchema}".events
        (stream, revision, event_id, type, data, metadata, hash, prev_hash, command_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`;
    return {
      async append(stream, fromRevision, events) {
        const first = events[0];
        if (events.length === 1 && first !== undefined) {
          await pool.query(insertOne, [
            stream,
            fromRevision,
            first.eventId,
            first.type,
            first.data,
            first.metadata,
            fixedHash,
            'bench',
          ]);
          return;
        }
        await pool.query(insert, [
          stream,
          fromRevision,
          events.map((e) => e.eventId),
          events.map((e) => e.type),
          events.map((e) => e.data),
          events.map((e) => e.metadata),
          fixedHash,
          'bench',
        ]);
      },
      async readAll() {
        let count = 0;
        let after = '0';
        for (;;) {
          const { rows } = await pool.query<{ global_position: string }>(
            `SELECT global_position, stream, revision, event_id, type, data, metadata, hash, prev_hash
               FROM "${rawSchema}".events WHERE global_position > $1
              ORDER BY global_position LIMIT 1000`,
            [after],
          );
          count += rows.length;
          const last = rows[rows.length - 1];
          if (last === undefined) return count;
          after = last.global_position;
        }
      },
      async close() {
        await pool.end();
      },
    };
  },
  async cleanup() {
    await admin(
      `DROP SCHEMA IF EXISTS "${adapterSchema}" CASCADE; DROP SCHEMA IF EXISTS "${rawSchema}" CASCADE`,
    );
  },
};
