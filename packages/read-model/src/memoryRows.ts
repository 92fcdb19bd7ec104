import {
  keyString,
  snapshotText,
  tableOf,
  tables,
  type Row,
  type RowChange,
  type TableName,
} from './tables.js';

/**
 * Read-model rows held in memory, changed by the same `RowChange`s the stores write: the
 * reference the projection tests fold events into, and what the stores' snapshots are
 * compared with.
 */
export class MemoryRows {
  readonly #tables = new Map<TableName, Map<string, Row>>(tables.map((t) => [t.name, new Map()]));

  apply(changes: Iterable<RowChange>): this {
    for (const change of changes) {
      const definition = tableOf(change.table);
      const rows = this.#tables.get(change.table) as Map<string, Row>;
      if (change.op === 'upsert') rows.set(keyString(definition, change.row), change.row);
      else rows.delete(keyString(definition, change.key));
    }
    return this;
  }

  /** The rows of a table, in no particular order. */
  rows(table: TableName): Row[] {
    return [...(this.#tables.get(table) as Map<string, Row>).values()];
  }

  snapshot(): string {
    return snapshotText((name) => this.rows(name));
  }
}
