import type Database from 'better-sqlite3';
import { damagedFileError, streamIndex } from './sqliteSchema.js';

/**
 * How much of the file to check. `open`: SQLite's `quick_check` (every page and B-tree well
 * formed) and each stream's head, count and positions read through the stream index against
 * the same read from the table itself. `full` (verify): `integrity_check` (also every index entry
 * against its row, and UNIQUE constraints) and every stored command id against the event it
 * names, on top. Measured on 1,000,000 events (740 MB, see docs/benchmarks/event-store-sqlite.md):
 * `open` about 7 s, `full` about 25 s.
 */
export type SqliteCheckLevel = 'open' | 'full';

type Aggregate = [string, bigint, bigint, bigint, bigint, bigint];

const aggregateSql = (source: string, where: string): string =>
  `SELECT stream, count(*), min(revision), max(revision), sum(revision), sum(global_position)
     FROM events ${source} ${where} GROUP BY stream ORDER BY stream`;

/**
 * Checks the file and throws the typed "damaged, restore from backup" error at the first
 * problem. The demonstrated danger: a damaged stream index made per-stream reads and the head
 * lose events while the table (and a walk of the whole log) still had them, and the next append
 * then wrote a second event at an existing revision. Comparing both reads per stream finds any
 * single changed key of that index (a stream name moves an entry between streams; a revision or
 * position changes a sum); `quick_check` finds what makes a B-tree malformed.
 */
export function checkSqliteFile(
  db: Database.Database,
  level: SqliteCheckLevel,
  stream?: string,
): void {
  if (stream === undefined) {
    const pragma = level === 'full' ? 'integrity_check' : 'quick_check';
    const findings = (db.pragma(`${pragma}(10)`) as Record<string, unknown>[]).map((row) =>
      String(Object.values(row)[0]),
    );
    if (findings.length !== 1 || findings[0] !== 'ok') {
      throw damagedFileError(`${pragma} failed`, { check: pragma, findings });
    }
  }
  const where = stream === undefined ? '' : 'WHERE stream = ?';
  const read = (source: string): Aggregate[] => {
    const statement = db.prepare(aggregateSql(source, where)).raw(true).safeIntegers(true);
    return (stream === undefined ? statement.all() : statement.all(stream)) as Aggregate[];
  };
  const byTable = read('NOT INDEXED');
  const byIndex = read(`INDEXED BY ${streamIndex}`);
  const count = Math.max(byTable.length, byIndex.length);
  for (let i = 0; i < count; i += 1) {
    const table = byTable[i];
    const index = byIndex[i];
    const name = table?.[0] ?? index?.[0];
    if (table === undefined || index === undefined || table.some((v, k) => v !== index[k])) {
      throw damagedFileError('the stream index disagrees with the events table', {
        check: 'heads',
        stream: typeof name === 'string' ? name : String(name),
      });
    }
    const [, rows, min, max] = table;
    if (min !== 0n || max !== rows - 1n) {
      throw damagedFileError('a stream does not run from revision 0 without gaps', {
        check: 'heads',
        stream: String(name),
      });
    }
  }
  if (level === 'full' && stream === undefined) {
    const [stray] = db
      .prepare(
        `SELECT count(*) FROM commands c LEFT JOIN events e
            ON e.stream = c.stream AND e.revision = c.first_revision
         WHERE e.event_id IS NOT c.first_event_id`,
      )
      .raw(true)
      .safeIntegers(true)
      .get() as [bigint];
    if (stray !== 0n) {
      throw damagedFileError('stored command ids do not match their events', {
        check: 'commands',
        mismatched: stray.toString(),
      });
    }
  }
}
