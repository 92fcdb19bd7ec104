/**
 * Test helpers for the PostgreSQL adapter: the test database's URL, throw-away schemas, and the
 * contract suite's backend factory. Every case gets a schema of its own (random name, dropped
 * at teardown), so test files running in parallel never share rows.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  openPostgresEventStore,
  type PostgresEventStore,
} from '../src/postgres/postgresEventStore.js';
import type { EventStore } from '../src/index.js';
import type { ContractBackend, EventStoreContractFactory } from './contract.js';

/** The test database, or an explanation of how to get one. */
export function testPostgresUrl(): string {
  const url = process.env['RATSFACH_TEST_PG_URL'];
  if (url === undefined || url === '') {
    throw new Error(
      'RATSFACH_TEST_PG_URL is not set: run `bash scripts/pg.sh start` and export ' +
        'RATSFACH_TEST_PG_URL=$(bash scripts/pg.sh url) (the whole suite: npm test does both)',
    );
  }
  return url;
}

export const randomSchema = (): string => `es_test_${randomBytes(6).toString('hex')}`;

export interface ChildArg {
  readonly url: string;
  readonly schema: string;
}

/** Opener for the contract suite's child process (SIGKILL case). */
export function openForChild(arg: ChildArg): Promise<PostgresEventStore> {
  return openPostgresEventStore({
    connection: { connectionString: arg.url, max: 4 },
    schema: arg.schema,
  });
}

/** Runs one statement on a short-lived connection of its own. */
export async function adminQuery(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export const dropSchema = (url: string, schema: string): Promise<pg.QueryResult> =>
  adminQuery(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);

export function postgresContractFactory(url: string): EventStoreContractFactory {
  return {
    async open(options = {}): Promise<ContractBackend> {
      const schema = randomSchema();
      const open = (): Promise<PostgresEventStore> =>
        openPostgresEventStore({
          connection: { connectionString: url, max: 8 },
          schema,
          pollIntervalMs: 100,
          ...(options.limits === undefined ? {} : { limits: options.limits }),
        });
      const opened: EventStore[] = [];
      const store = await open();
      opened.push(store);
      return {
        store,
        tenant: 'town',
        async reopen() {
          const again = await open();
          opened.push(again);
          return again;
        },
        child: {
          module: fileURLToPath(new URL('./postgresBackend.ts', import.meta.url)),
          exportName: 'openForChild',
          arg: { url, schema } satisfies ChildArg,
        },
        async corrupt(stream, revision) {
          const result = await adminQuery(
            url,
            `UPDATE "${schema}".events
                SET data = set_byte(data, 0, (get_byte(data, 0) # 1))
              WHERE stream = $1 AND revision = $2`,
            [stream, revision],
          );
          if (result.rowCount !== 1) throw new Error(`no event ${stream}@${revision} to corrupt`);
        },
        async destroy() {
          await Promise.all(opened.map((s) => s.close()));
          await dropSchema(url, schema);
        },
      };
    },
  };
}
