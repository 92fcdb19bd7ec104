/**
 * The read-model tables, defined once: the SQLite and PostgreSQL schemas, the generic upsert
 * and delete statements, the in-memory fold of the projection tests and `snapshot()` are all
 * derived from this list, so the two stores cannot drift apart.
 */

/** How a column is stored: text, a JS number, a log position (bigint), or a 0/1 flag. */
export type ColumnType = 'text' | 'int' | 'bigint' | 'bool';

export interface Column {
  /** Property name in a row object. */
  readonly name: string;
  /** Column name in SQL. */
  readonly sql: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

export interface TableDefinition {
  readonly name: TableName;
  readonly columns: readonly Column[];
  /** Property names of the primary key, in key order. */
  readonly key: readonly string[];
  /** Secondary indexes, each a list of property names. */
  readonly indexes: readonly (readonly string[])[];
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `'name:type'` or `'name:type?'` for a nullable column. */
const columns = (...specs: string[]): Column[] =>
  specs.map((spec) => {
    const [name = '', typeSpec = ''] = spec.split(':');
    const nullable = typeSpec.endsWith('?');
    return { name, sql: snake(name), type: typeSpec.replace('?', '') as ColumnType, nullable };
  });

const table = (
  name: TableName,
  key: readonly string[],
  cols: Column[],
  indexes: readonly (readonly string[])[] = [],
): TableDefinition => ({ name, columns: cols, key, indexes });

/** The table names, in the order `snapshot()` lists them. */
export const TableName = {
  tenants: 'tenants',
  users: 'users',
  devices: 'devices',
  committees: 'committees',
  memberships: 'memberships',
  committeeFeed: 'committeeFeed',
  userFeed: 'userFeed',
  manifest: 'manifest',
  documents: 'documents',
  versions: 'versions',
  blobRefs: 'blobRefs',
  audit: 'audit',
} as const;
export type TableName = (typeof TableName)[keyof typeof TableName];

/** Every table of the read models. */
export const tables: readonly TableDefinition[] = [
  table(
    TableName.tenants,
    ['tenantId'],
    columns('tenantId:text', 'rootFingerprint:text', 'createdAt:int', 'position:bigint'),
  ),
  table(
    TableName.users,
    ['tenantId', 'userId'],
    columns('tenantId:text', 'userId:text', 'position:bigint'),
  ),
  table(
    TableName.devices,
    ['tenantId', 'deviceId', 'userId'],
    columns(
      'tenantId:text',
      'deviceId:text',
      'userId:text',
      'admin:bool',
      'fingerprint:text',
      'notBefore:int',
      'notAfter:int',
      'revoked:bool',
      'certifiedAt:bigint',
      'revokedAt:bigint?',
    ),
    [['tenantId', 'userId']],
  ),
  table(
    TableName.committees,
    ['tenantId', 'committeeId'],
    columns('tenantId:text', 'committeeId:text', 'position:bigint'),
  ),
  table(
    TableName.memberships,
    ['tenantId', 'committeeId', 'userId'],
    columns(
      'tenantId:text',
      'committeeId:text',
      'userId:text',
      'role:text',
      'effective:bool',
      'pendingStaffSequence:int?',
      'pendingStaffHash:text?',
      'changedAt:bigint',
    ),
    [['tenantId', 'userId']],
  ),
  table(
    TableName.committeeFeed,
    ['tenantId', 'committeeId', 'seq'],
    columns(
      'tenantId:text',
      'committeeId:text',
      'seq:int',
      'position:bigint',
      'stream:text',
      'revision:bigint',
      'type:text',
      'documentId:text?',
      'version:int?',
      'epoch:int?',
      'userId:text?',
      'occurredAt:text',
    ),
  ),
  table(
    TableName.userFeed,
    ['tenantId', 'userId', 'seq'],
    columns(
      'tenantId:text',
      'userId:text',
      'seq:int',
      'position:bigint',
      'stream:text',
      'revision:bigint',
      'type:text',
      'deviceId:text?',
      'committeeId:text?',
      'role:text?',
      'occurredAt:text',
    ),
  ),
  table(
    TableName.manifest,
    ['tenantId', 'userId', 'committeeId'],
    columns(
      'tenantId:text',
      'userId:text',
      'committeeId:text',
      'role:text',
      'joinedAt:bigint',
      'leftAtSeq:int?',
    ),
  ),
  table(
    TableName.documents,
    ['tenantId', 'documentId'],
    columns(
      'tenantId:text',
      'documentId:text',
      'committeeId:text',
      'status:text',
      'headVersion:int',
      'createdAt:text',
      'deletedAt:text?',
    ),
  ),
  table(
    TableName.versions,
    ['tenantId', 'documentId', 'version'],
    columns(
      'tenantId:text',
      'documentId:text',
      'version:int',
      'parentVersion:int?',
      'epoch:int',
      'contentHash:text',
      'size:int',
      'keySlotHash:text',
      'signerUserId:text',
      'signerDeviceId:text',
      'position:bigint',
      'revision:bigint',
      'occurredAt:text',
    ),
  ),
  table(
    TableName.blobRefs,
    ['tenantId', 'documentId', 'version', 'kind'],
    columns('tenantId:text', 'documentId:text', 'version:int', 'kind:text', 'hash:text'),
    [['tenantId', 'kind', 'hash']],
  ),
  table(
    TableName.audit,
    ['position', 'idx'],
    columns(
      'position:bigint',
      'idx:int',
      'tenantId:text',
      'action:text',
      'type:text',
      'actorUserId:text?',
      'actorDeviceId:text?',
      'subjectKind:text',
      'subjectId:text',
      'targetUserId:text?',
      'committeeId:text?',
      'occurredAt:text',
    ),
    [
      ['tenantId', 'subjectKind', 'subjectId', 'position'],
      ['tenantId', 'actorUserId', 'position'],
      ['tenantId', 'position'],
    ],
  ),
];

const byName = new Map(tables.map((t) => [t.name, t]));

/** A table's definition by name. */
export const tableOf = (name: TableName): TableDefinition => {
  const found = byName.get(name);
  if (found === undefined) throw new Error(`no read-model table ${name}`);
  return found;
};

/** A value a row column holds. */
export type CellValue = string | number | bigint | boolean | null;
/** A row: property name to value, for the columns of its table. */
export type Row = Readonly<Record<string, CellValue>>;

/** One change the projections make to the read models. */
export type RowChange =
  | { readonly table: TableName; readonly op: 'upsert'; readonly row: Row }
  | { readonly table: TableName; readonly op: 'delete'; readonly key: Row };

/** The primary key of a row (or a key object) as one string, for maps. */
export const keyString = (definition: TableDefinition, row: Row): string =>
  definition.key.map((name) => String(row[name])).join('\u0000');

/** Normalises a value read back from a database to the column's JS type. */
export function normaliseCell(column: Column, value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'text':
      // Both drivers return a text column as a string.
      return typeof value === 'string' ? value : (value as number | bigint).toString();
    case 'int':
      return Number(value);
    case 'bigint':
      return BigInt(value as string | number | bigint);
    case 'bool':
      return value === true || value === 1 || value === 1n || value === '1' || value === 't';
  }
}

/** The value a column stores for a row's cell: flags as 0/1, positions as bigint. */
export function storedCell(
  column: Column,
  value: CellValue | undefined,
): string | number | bigint | null {
  if (value === null || value === undefined) return null;
  if (column.type === 'bool') return value === true ? 1 : 0;
  if (column.type === 'bigint') return BigInt(value);
  return value as string | number;
}

const compareCells = (a: CellValue, b: CellValue): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
};

/** Orders rows by their table's primary key (strings by UTF-16 code unit, as `snapshot` does). */
export const compareRows =
  (definition: TableDefinition) =>
  (a: Row, b: Row): number => {
    for (const name of definition.key) {
      const order = compareCells(a[name] ?? null, b[name] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  };

/**
 * The canonical text of a set of read-model rows: each table by name, its rows in key order,
 * one JSON array per row (columns in definition order, positions as decimal strings). Two
 * stores whose texts are equal hold the same read models.
 */
export function snapshotText(rowsOf: (name: TableName) => readonly Row[]): string {
  const lines: string[] = [];
  for (const definition of tables) {
    const rows = [...rowsOf(definition.name)].sort(compareRows(definition));
    lines.push(`# ${definition.name} ${rows.length}`);
    for (const row of rows) {
      const cells = definition.columns.map((column) => {
        const value = normaliseCell(column, row[column.name]);
        return typeof value === 'bigint' ? value.toString() : value;
      });
      lines.push(JSON.stringify(cells));
    }
  }
  return lines.join('\n') + '\n';
}
