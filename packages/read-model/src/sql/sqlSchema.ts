import { tables, type Column, type ColumnType, type TableDefinition } from '../tables.js';

/** What differs between the SQL of SQLite and PostgreSQL here: only column types. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  readonly types: Readonly<Record<ColumnType, string>>;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  types: { text: 'TEXT', int: 'INTEGER', bigint: 'INTEGER', bool: 'INTEGER' },
};

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  // Sizes and Unix times can pass 2^31, so every integer is a bigint.
  types: { text: 'TEXT', int: 'BIGINT', bigint: 'BIGINT', bool: 'SMALLINT' },
};

/** The version of the schema below; a database holding a newer one is refused. */
export const schemaVersion = 1;

/** SQL name of a table. */
export const sqlTable = (definition: TableDefinition): string =>
  `rm_${definition.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;

export const columnOf = (definition: TableDefinition, name: string): Column => {
  const column = definition.columns.find((c) => c.name === name);
  if (column === undefined) throw new Error(`no column ${name} in ${definition.name}`);
  return column;
};

const keyColumns = (definition: TableDefinition): string[] =>
  definition.key.map((name) => columnOf(definition, name).sql);

/** Every statement that creates the schema, idempotently. */
export function schemaStatements(dialect: SqlDialect): string[] {
  const statements = [
    'CREATE TABLE IF NOT EXISTS rm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    `CREATE TABLE IF NOT EXISTS rm_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position ${dialect.types.bigint})`,
    'INSERT INTO rm_checkpoint (id, position) VALUES (1, NULL) ON CONFLICT (id) DO NOTHING',
  ];
  for (const definition of tables) {
    const name = sqlTable(definition);
    const columns = definition.columns.map(
      (c) => `${c.sql} ${dialect.types[c.type]}${c.nullable ? '' : ' NOT NULL'}`,
    );
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${name} (${columns.join(', ')}, PRIMARY KEY (${keyColumns(definition).join(', ')}))`,
    );
    definition.indexes.forEach((index, i) => {
      const cols = index.map((n) => columnOf(definition, n).sql).join(', ');
      statements.push(`CREATE INDEX IF NOT EXISTS ${name}_i${i} ON ${name} (${cols})`);
    });
  }
  return statements;
}

/** `INSERT … ON CONFLICT (key) DO UPDATE` of one row, `?` placeholders in column order. */
export function upsertSql(definition: TableDefinition): string {
  const cols = definition.columns.map((c) => c.sql);
  const key = keyColumns(definition);
  const updates = cols.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
  const conflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`;
  return `INSERT INTO ${sqlTable(definition)} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT (${key.join(', ')}) ${conflict}`;
}

/** `DELETE` of one row by its key, `?` placeholders in key order. */
export function deleteSql(definition: TableDefinition): string {
  const where = keyColumns(definition).map((c) => `${c} = ?`);
  return `DELETE FROM ${sqlTable(definition)} WHERE ${where.join(' AND ')}`;
}

/** Every table, to empty on `reset`. */
export const allSqlTables = (): string[] => tables.map(sqlTable);
