import Database from 'better-sqlite3';
import { isRatsfachError } from '@ratsfach/domain';
import type { ProjectedEvent } from '../readModelStore.js';
import {
  checkpointMoved,
  readModelClosed,
  readModelUnavailable,
  schemaNewer,
} from '../readModelErrors.js';
import { allProjections, projectEvents, type Projection } from '../projections/index.js';
import type { ProjectionState } from '../projections/projectionState.js';
import { tableOf, type RowChange } from '../tables.js';
import {
  allSqlTables,
  deleteSql,
  schemaStatements,
  schemaVersion,
  sqliteDialect,
  upsertSql,
  columnOf,
} from '../sql/sqlSchema.js';
import { eventsToApply, SqlReadModelStore, type DbRow } from '../sql/sqlReadModelStore.js';
import { storedCell } from '../tables.js';

export interface SqliteReadModelStoreOptions {
  /** Path of the database file (its directory must exist); a file of its own, not the log's. */
  readonly path: string;
  /** How long a statement waits for another connection's write lock. Default 5,000 ms. */
  readonly busyTimeoutMs?: number;
  /** The projections to run; default all of them (tests pass fewer). */
  readonly projections?: readonly Projection[];
}

/**
 * Opens (creating if needed) the embedded read models on a SQLite file: WAL, so the API's
 * reads never wait for the projector's writes. `synchronous=NORMAL`: a power loss can lose the
 * last batches but never splits one from its checkpoint, and the projector replays them.
 * Throws UnavailableError when the file cannot be opened, IntegrityError
 * RATSFACH_READ_MODEL_SCHEMA_NEWER when newer code wrote it.
 */
export async function openSqliteReadModelStore(
  options: SqliteReadModelStoreOptions,
): Promise<SqliteReadModelStore> {
  return new SqliteReadModelStore(options);
}

/** The read models on SQLite (better-sqlite3); see `ReadModelStore`. */
export class SqliteReadModelStore extends SqlReadModelStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #projections: readonly Projection[];
  /** The rows the projections read, loaded on the first `apply`; null when stale. */
  #state: ProjectionState | null = null;
  /** The checkpoint `#state` belongs to. */
  #stateCheckpoint: bigint | null = null;
  #closed = false;

  constructor(options: SqliteReadModelStoreOptions) {
    super();
    this.#projections = options.projections ?? allProjections;
    try {
      this.#db = new Database(options.path);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.#db.defaultSafeIntegers(true);
      this.#migrate();
    } catch (error) {
      if (isRatsfachError(error)) throw error;
      throw readModelUnavailable(`opening ${options.path}`, error);
    }
  }

  #migrate(): void {
    this.#db
      .transaction(() => {
        for (const statement of schemaStatements(sqliteDialect)) this.#db.prepare(statement).run();
        const row = this.#db
          .prepare(`SELECT value FROM rm_meta WHERE key = 'schema_version'`)
          .get() as { value: string } | undefined;
        const found = row === undefined ? 0 : Number(row.value);
        if (found > schemaVersion) throw schemaNewer(found, schemaVersion);
        this.#db
          .prepare(
            `INSERT INTO rm_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          )
          .run(String(schemaVersion));
      })
      .immediate();
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #check(): void {
    if (this.#closed) throw readModelClosed();
  }

  protected async query(sql: string, params: readonly unknown[]): Promise<readonly DbRow[]> {
    this.#check();
    try {
      return this.#prepare(sql).all(...params.map(bind)) as DbRow[];
    } catch (error) {
      throw readModelUnavailable('a query', error);
    }
  }

  #storedCheckpoint(): bigint | null {
    const row = this.#prepare('SELECT position FROM rm_checkpoint WHERE id = 1').get() as
      { position: bigint | null } | undefined;
    return row?.position ?? null;
  }

  /** The upsert and delete statement of each table, prepared once. */
  #writeStatement(change: RowChange): Database.Statement {
    const key = `${change.op} ${change.table}`;
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      const definition = tableOf(change.table);
      statement = this.#db.prepare(
        change.op === 'upsert' ? upsertSql(definition) : deleteSql(definition),
      );
      this.#statements.set(key, statement);
    }
    return statement;
  }

  #write(change: RowChange): void {
    const definition = tableOf(change.table);
    if (change.op === 'upsert') {
      this.#writeStatement(change).run(
        ...definition.columns.map((column) => storedCell(column, change.row[column.name])),
      );
    } else {
      this.#writeStatement(change).run(
        ...definition.key.map((name) => storedCell(columnOf(definition, name), change.key[name])),
      );
    }
  }

  async apply(batch: readonly ProjectedEvent[], checkpoint: bigint): Promise<void> {
    this.#check();
    if (this.#state === null) {
      const stored = this.#storedCheckpoint();
      this.#state = await SqlReadModelStore.loadState(
        async (sql) => this.#prepare(sql).all() as DbRow[],
      );
      this.#stateCheckpoint = stored;
    }
    const state = this.#state;
    let projecting = false;
    try {
      this.#db
        .transaction(() => {
          const stored = this.#storedCheckpoint();
          if (stored !== this.#stateCheckpoint)
            throw checkpointMoved(this.#stateCheckpoint, stored);
          const events = eventsToApply(batch, checkpoint, stored);
          if (events === null) return;
          projecting = true;
          const changes = projectEvents(this.#projections, state, events);
          projecting = false;
          for (const change of changes) this.#write(change);
          this.#prepare('UPDATE rm_checkpoint SET position = ? WHERE id = 1').run(checkpoint);
        })
        .immediate();
      this.#stateCheckpoint = (await this.checkpoint()) ?? null;
    } catch (error) {
      // The projections moved the cached rows ahead of what was rolled back.
      this.#state = null;
      // A projection's own failure is a bug to see, not an outage to retry.
      if (isRatsfachError(error) || projecting) throw error;
      throw readModelUnavailable('applying a batch', error);
    }
  }

  async reset(): Promise<void> {
    this.#check();
    try {
      this.#db
        .transaction(() => {
          for (const table of allSqlTables()) this.#prepare(`DELETE FROM ${table}`).run();
          this.#prepare('UPDATE rm_checkpoint SET position = NULL WHERE id = 1').run();
        })
        .immediate();
    } catch (error) {
      throw readModelUnavailable('resetting the read models', error);
    } finally {
      this.#state = null;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }
}

/** Binds a parameter: better-sqlite3 takes bigint, number, string, null; flags as 0/1. */
const bind = (value: unknown): unknown => (typeof value === 'boolean' ? (value ? 1 : 0) : value);
