import pg from 'pg';
import { isRatsfachError, isValidId } from '@ratsfach/domain';
import type { ProjectedEvent } from '../readModelStore.js';
import {
  checkpointMoved,
  optionsInvalid,
  readModelClosed,
  readModelUnavailable,
  schemaNewer,
} from '../readModelErrors.js';
import { allProjections, projectEvents, type Projection } from '../projections/index.js';
import type { ProjectionState } from '../projections/projectionState.js';
import {
  keyString,
  storedCell,
  tableOf,
  tables,
  type ColumnType,
  type RowChange,
  type TableName,
} from '../tables.js';
import {
  allSqlTables,
  columnOf,
  postgresDialect,
  schemaStatements,
  schemaVersion,
  sqlTable,
} from '../sql/sqlSchema.js';
import { eventsToApply, SqlReadModelStore, type DbRow } from '../sql/sqlReadModelStore.js';
import { checkpointChannel } from './checkpointChannel.js';

export interface PostgresReadModelStoreOptions {
  /**
   * A pool the caller owns (it stays open after `close`; it needs its own 'error' listener),
   * or the settings of a pool the store creates and ends.
   */
  readonly connection: { readonly pool: pg.Pool } | pg.PoolConfig;
  /** Schema holding the read-model tables; created if missing. Lowercase letters, digits, `_`. */
  readonly schema: string;
  /** The projections to run; default all of them. */
  readonly projections?: readonly Projection[];
}

const isPoolOption = (c: PostgresReadModelStoreOptions['connection']): c is { pool: pg.Pool } =>
  'pool' in c && typeof (c.pool as { connect?: unknown } | undefined)?.connect === 'function';

const arrayType: Readonly<Record<ColumnType, string>> = {
  text: 'text[]',
  int: 'int8[]',
  bigint: 'int8[]',
  bool: 'int2[]',
};

/** A cell for a pg array parameter: bigints as decimal text (pg's arrays take no bigint). */
const arrayCell = (value: string | number | bigint | null): string | number | null =>
  typeof value === 'bigint' ? value.toString() : value;

/**
 * Opens the read models on PostgreSQL: creates (or checks) the schema, idempotently and under
 * an advisory lock. Throws UnavailableError when the database cannot be reached, IntegrityError
 * RATSFACH_READ_MODEL_SCHEMA_NEWER when newer code wrote it.
 */
export async function openPostgresReadModelStore(
  options: PostgresReadModelStoreOptions,
): Promise<PostgresReadModelStore> {
  if (!isValidId(options.schema)) {
    throw optionsInvalid('schema', options.schema, 'lowercase letters, digits and _ (1 to 64)');
  }
  const owned = !isPoolOption(options.connection);
  const pool = isPoolOption(options.connection)
    ? options.connection.pool
    : new pg.Pool({ max: 8, connectionTimeoutMillis: 10_000, ...options.connection });
  if (owned) pool.on('error', () => undefined);
  try {
    await migrate(pool, options.schema);
  } catch (error) {
    if (owned) await pool.end().catch(() => undefined);
    if (isRatsfachError(error)) throw error;
    throw readModelUnavailable('opening the read models (schema migration)', error);
  }
  return new PostgresReadModelStore(pool, owned, options);
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('ratsfach.read_model.migrate', 0))`,
    );
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`SET LOCAL search_path TO "${schema}"`);
    for (const statement of schemaStatements(postgresDialect)) await client.query(statement);
    const found = await client.query<{ value: string }>(
      `SELECT value FROM rm_meta WHERE key = 'schema_version'`,
    );
    const version = found.rows[0] === undefined ? 0 : Number(found.rows[0].value);
    if (version > schemaVersion) throw schemaNewer(version, schemaVersion);
    await client.query(
      `INSERT INTO rm_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [String(schemaVersion)],
    );
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}

/**
 * The read models on PostgreSQL (`pg`); see `ReadModelStore`. A batch is written as one
 * statement per table (`unnest` arrays) after folding its changes to the last one per row, and
 * the checkpoint row is locked for the transaction, so two projectors cannot interleave. Each
 * committed batch NOTIFYs `checkpointChannel(schema)` with the new checkpoint (see
 * `PostgresCheckpointListener`).
 */
export class PostgresReadModelStore extends SqlReadModelStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #schema: string;
  readonly #projections: readonly Projection[];
  readonly #channel: string;
  readonly #sql = new Map<string, string>();
  #state: ProjectionState | null = null;
  #stateCheckpoint: bigint | null = null;
  #closed = false;

  constructor(pool: pg.Pool, owned: boolean, options: PostgresReadModelStoreOptions) {
    super();
    this.#pool = pool;
    this.#owned = owned;
    this.#schema = options.schema;
    this.#projections = options.projections ?? allProjections;
    this.#channel = checkpointChannel(options.schema);
  }

  /** `?` to `$n`, and every `rm_` table into this store's schema. */
  #translate(sql: string): string {
    let translated = this.#sql.get(sql);
    if (translated === undefined) {
      let n = 0;
      translated = sql.replace(/\?/g, () => `$${++n}`).replace(/\brm_/g, `"${this.#schema}".rm_`);
      this.#sql.set(sql, translated);
    }
    return translated;
  }

  #check(): void {
    if (this.#closed) throw readModelClosed();
  }

  protected async query(sql: string, params: readonly unknown[]): Promise<readonly DbRow[]> {
    this.#check();
    try {
      const result = await this.#pool.query(this.#translate(sql), params.map(bindParam));
      return result.rows as DbRow[];
    } catch (error) {
      throw readModelUnavailable('a query', error);
    }
  }

  async apply(batch: readonly ProjectedEvent[], checkpoint: bigint): Promise<void> {
    this.#check();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw readModelUnavailable('connecting', error);
    }
    const run = async (sql: string, params: readonly unknown[] = []): Promise<DbRow[]> =>
      (await client.query(this.#translate(sql), params as unknown[])).rows as DbRow[];
    let projecting = false;
    try {
      await run('BEGIN');
      const [row] = await run('SELECT position FROM rm_checkpoint WHERE id = 1 FOR UPDATE');
      const stored = row?.['position'] == null ? null : BigInt(row['position'] as string);
      if (this.#state === null) {
        this.#state = await SqlReadModelStore.loadState((sql) => run(sql));
        this.#stateCheckpoint = stored;
      } else if (stored !== this.#stateCheckpoint) {
        throw checkpointMoved(this.#stateCheckpoint, stored);
      }
      const events = eventsToApply(batch, checkpoint, stored);
      if (events === null) {
        await run('COMMIT');
        client.release();
        return;
      }
      projecting = true;
      const changes = projectEvents(this.#projections, this.#state, events);
      projecting = false;
      for (const statement of batchStatements(changes)) await run(statement.sql, statement.params);
      await run('UPDATE rm_checkpoint SET position = ? WHERE id = 1', [checkpoint.toString()]);
      // Delivered on COMMIT only, to every API process listening (scale-out live push).
      await run('SELECT pg_notify(?, ?)', [this.#channel, checkpoint.toString()]);
      await run('COMMIT');
      this.#stateCheckpoint = checkpoint;
      client.release();
    } catch (error) {
      this.#state = null;
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(
        error instanceof Error && !isRatsfachError(error) && !projecting ? error : undefined,
      );
      // A projection's own failure is a bug to see, not an outage to retry.
      if (isRatsfachError(error) || projecting) throw error;
      throw readModelUnavailable('applying a batch', error);
    }
  }

  async reset(): Promise<void> {
    this.#check();
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw readModelUnavailable('connecting', error);
    });
    try {
      await client.query('BEGIN');
      await client.query(
        this.#translate('SELECT position FROM rm_checkpoint WHERE id = 1 FOR UPDATE'),
      );
      await client.query(
        `TRUNCATE ${allSqlTables()
          .map((t) => this.#translate(t))
          .join(', ')}`,
      );
      await client.query(this.#translate('UPDATE rm_checkpoint SET position = NULL WHERE id = 1'));
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw readModelUnavailable('resetting the read models', error);
    } finally {
      this.#state = null;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#pool.end();
  }
}

const bindParam = (value: unknown): unknown =>
  typeof value === 'bigint'
    ? value.toString()
    : typeof value === 'boolean'
      ? value
        ? 1
        : 0
      : value;

/**
 * The statements that write a batch's changes: per table, the last change of each row wins
 * (a row changed twice in a batch is written once), deletions first, then one `unnest` upsert.
 */
function batchStatements(changes: readonly RowChange[]): { sql: string; params: unknown[] }[] {
  const byTable = new Map<TableName, Map<string, RowChange>>();
  for (const change of changes) {
    const definition = tableOf(change.table);
    let rows = byTable.get(change.table);
    if (rows === undefined) {
      rows = new Map();
      byTable.set(change.table, rows);
    }
    const key = keyString(definition, change.op === 'upsert' ? change.row : change.key);
    rows.delete(key);
    rows.set(key, change);
  }
  const statements: { sql: string; params: unknown[] }[] = [];
  for (const definition of tables) {
    const rows = byTable.get(definition.name);
    if (rows === undefined) continue;
    const name = sqlTable(definition);
    const deletes = [...rows.values()].filter((c) => c.op === 'delete');
    const upserts = [...rows.values()].filter((c) => c.op === 'upsert');
    if (deletes.length > 0) {
      const keyColumns = definition.key.map((n) => columnOf(definition, n));
      statements.push({
        sql: `DELETE FROM ${name} WHERE (${keyColumns.map((c) => c.sql).join(', ')}) IN (SELECT * FROM unnest(${keyColumns.map((c) => `?::${arrayType[c.type]}`).join(', ')}))`,
        params: keyColumns.map((column) =>
          deletes.map((c) =>
            arrayCell(storedCell(column, c.op === 'delete' ? c.key[column.name] : null)),
          ),
        ),
      });
    }
    if (upserts.length > 0) {
      const cols = definition.columns;
      const key = definition.key.map((n) => columnOf(definition, n).sql);
      const updates = cols
        .filter((c) => !key.includes(c.sql))
        .map((c) => `${c.sql} = excluded.${c.sql}`);
      statements.push({
        sql: `INSERT INTO ${name} (${cols.map((c) => c.sql).join(', ')}) SELECT * FROM unnest(${cols.map((c) => `?::${arrayType[c.type]}`).join(', ')}) ON CONFLICT (${key.join(', ')}) ${updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`}`,
        params: cols.map((column) =>
          upserts.map((c) =>
            arrayCell(storedCell(column, c.op === 'upsert' ? c.row[column.name] : null)),
          ),
        ),
      });
    }
  }
  return statements;
}
