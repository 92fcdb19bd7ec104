import type { MemberRole } from '@ratsfach/domain';
import { decodeCursor, encodeCursor } from '../cursor.js';
import {
  batchInvalid,
  cursorForeign,
  cursorFuture,
  deviceAmbiguous,
  optionsInvalid,
} from '../readModelErrors.js';
import type {
  AuditEntry,
  AuditQuery,
  BlobReference,
  CommitteeFeedEntry,
  DeviceStanding,
  DocumentSummary,
  DocumentVersion,
  ManifestCommittee,
  ManifestDelta,
  ManifestDeltaOptions,
  ManifestEntry,
  Membership,
  Page,
  PageOptions,
  ProjectedEvent,
  ReadModelStore,
  TenantSummary,
  UserFeedEntry,
} from '../readModelStore.js';
import { normaliseCell, snapshotText, tableOf, tables, TableName, type Row } from '../tables.js';
import { ProjectionState, stateTables } from '../projections/projectionState.js';
import { sqlTable } from './sqlSchema.js';

/** A row as the driver returns it: SQL column names to values. */
export type DbRow = Readonly<Record<string, unknown>>;

const defaultLimit = 500;
const maxLimit = 10_000;

/** Checks a page limit; throws ValidationError RATSFACH_READ_MODEL_OPTIONS_INVALID. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return defaultLimit;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxLimit) {
    throw optionsInvalid('limit', limit, `an integer from 1 to ${maxLimit}`);
  }
  return limit;
}

const pageAfter = (after: number | undefined): number => {
  if (after === undefined) return 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw optionsInvalid('after', after, 'an integer of 0 or more');
  }
  return after;
};

/** Maps a driver row of a table to its row object (property names, JS types). */
export function fromDb(table: TableName, row: DbRow): Row {
  const out: Record<string, unknown> = {};
  for (const column of tableOf(table).columns)
    out[column.name] = normaliseCell(column, row[column.sql]);
  return out as Row;
}

/**
 * Checks a batch: positions strictly increasing, the checkpoint not below the last one.
 * Returns the events after `stored` (a replay after a crash hands some in again), or null when
 * the whole batch is at or below the stored checkpoint: already applied, nothing to do (the
 * checkpoint never moves back).
 */
export function eventsToApply(
  batch: readonly ProjectedEvent[],
  checkpoint: bigint,
  stored: bigint | null,
): readonly ProjectedEvent[] | null {
  let previous: bigint | null = null;
  for (const event of batch) {
    if (previous !== null && event.position <= previous) {
      throw batchInvalid(`position ${event.position} follows ${previous}`);
    }
    previous = event.position;
  }
  if (previous !== null && checkpoint < previous) {
    throw batchInvalid(`checkpoint ${checkpoint} is below the last event's position ${previous}`);
  }
  if (stored !== null && checkpoint <= stored) return null;
  return stored === null ? batch : batch.filter((event) => event.position > stored);
}

/**
 * The queries of both SQL stores, written once over a driver-neutral `query` (SQL with `?`
 * placeholders): what the API reads behaves the same on SQLite and PostgreSQL.
 */
export abstract class SqlReadModelStore implements ReadModelStore {
  /** Runs one statement with `?` placeholders; returns its rows. */
  protected abstract query(sql: string, params: readonly unknown[]): Promise<readonly DbRow[]>;

  abstract apply(batch: readonly ProjectedEvent[], checkpoint: bigint): Promise<void>;
  abstract reset(): Promise<void>;
  abstract close(): Promise<void>;

  async checkpoint(): Promise<bigint | null> {
    const [row] = await this.query('SELECT position FROM rm_checkpoint WHERE id = 1', []);
    const position = row?.['position'];
    return position === null || position === undefined ? null : BigInt(position as bigint);
  }

  /** Loads the rows the projections read (see `ProjectionState`) through `run`. */
  protected static async loadState(
    run: (sql: string) => Promise<readonly DbRow[]>,
  ): Promise<ProjectionState> {
    const state = new ProjectionState();
    for (const table of stateTables) {
      for (const row of await run(`SELECT * FROM ${sqlTable(tableOf(table))}`)) {
        state.apply({ table, op: 'upsert', row: fromDb(table, row) });
      }
    }
    const heads = [
      ['committee', 'rm_committee_feed', 'committee_id'],
      ['user', 'rm_user_feed', 'user_id'],
    ] as const;
    for (const [feed, name, id] of heads) {
      const rows = await run(
        `SELECT tenant_id, ${id} AS id, MAX(seq) AS head FROM ${name} GROUP BY tenant_id, ${id}`,
      );
      for (const row of rows) {
        state.setHead(feed, String(row['tenant_id']), String(row['id']), Number(row['head']));
      }
    }
    return state;
  }

  async #rows(
    table: TableName,
    where: string,
    params: readonly unknown[],
    tail = '',
  ): Promise<Row[]> {
    const rows = await this.query(
      `SELECT * FROM ${sqlTable(tableOf(table))} WHERE ${where}${tail}`,
      params,
    );
    return rows.map((row) => fromDb(table, row));
  }

  async tenant(tenantId: string): Promise<TenantSummary | null> {
    const [row] = await this.#rows(TableName.tenants, 'tenant_id = ?', [tenantId]);
    return row === undefined
      ? null
      : {
          tenantId,
          rootFingerprint: row['rootFingerprint'] as string,
          createdAt: row['createdAt'] as number,
        };
  }

  async deviceStanding(tenantId: string, deviceId: string): Promise<DeviceStanding | null> {
    const rows = await this.#rows(
      TableName.devices,
      'tenant_id = ? AND device_id = ?',
      [tenantId, deviceId],
      ' LIMIT 2',
    );
    if (rows.length > 1) throw deviceAmbiguous(tenantId, deviceId);
    return rows[0] === undefined ? null : (rows[0] as unknown as DeviceStanding);
  }

  async userDevices(tenantId: string, userId: string): Promise<readonly DeviceStanding[]> {
    const rows = await this.#rows(
      TableName.devices,
      'tenant_id = ? AND user_id = ?',
      [tenantId, userId],
      ' ORDER BY device_id',
    );
    return rows as unknown as DeviceStanding[];
  }

  async userExists(tenantId: string, userId: string): Promise<boolean> {
    return (
      (await this.#rows(TableName.users, 'tenant_id = ? AND user_id = ?', [tenantId, userId]))
        .length > 0
    );
  }

  async committeeExists(tenantId: string, committeeId: string): Promise<boolean> {
    const rows = await this.#rows(TableName.committees, 'tenant_id = ? AND committee_id = ?', [
      tenantId,
      committeeId,
    ]);
    return rows.length > 0;
  }

  async tenantUsers(tenantId: string): Promise<readonly string[]> {
    const rows = await this.#rows(
      TableName.users,
      'tenant_id = ?',
      [tenantId],
      ' ORDER BY user_id',
    );
    return rows.map((row) => row['userId'] as string);
  }

  async tenantCommittees(tenantId: string): Promise<readonly string[]> {
    const rows = await this.#rows(
      TableName.committees,
      'tenant_id = ?',
      [tenantId],
      ' ORDER BY committee_id',
    );
    return rows.map((row) => row['committeeId'] as string);
  }

  #membership = (row: Row): Membership => ({
    tenantId: row['tenantId'] as string,
    committeeId: row['committeeId'] as string,
    userId: row['userId'] as string,
    role: row['role'] as MemberRole,
    effective: row['effective'] as boolean,
    pendingStaffSequence: row['pendingStaffSequence'] as number | null,
    changedAt: row['changedAt'] as bigint,
  });

  async memberships(tenantId: string, userId: string): Promise<readonly Membership[]> {
    const rows = await this.#rows(
      TableName.memberships,
      'tenant_id = ? AND user_id = ?',
      [tenantId, userId],
      ' ORDER BY committee_id',
    );
    return rows.map(this.#membership);
  }

  async committeeMembers(tenantId: string, committeeId: string): Promise<readonly Membership[]> {
    const rows = await this.#rows(
      TableName.memberships,
      'tenant_id = ? AND committee_id = ?',
      [tenantId, committeeId],
      ' ORDER BY user_id',
    );
    return rows.map(this.#membership);
  }

  /** Feed entries with `from <= seq <= to`, in order, at most `limit`. */
  async #feed(
    table: typeof TableName.committeeFeed | typeof TableName.userFeed,
    tenantId: string,
    id: string,
    from: number,
    to: number | null,
    limit: number,
  ): Promise<Row[]> {
    const idColumn = table === TableName.committeeFeed ? 'committee_id' : 'user_id';
    const upper = to === null ? '' : ' AND seq <= ?';
    return this.#rows(
      table,
      `tenant_id = ? AND ${idColumn} = ? AND seq >= ?${upper}`,
      to === null ? [tenantId, id, from] : [tenantId, id, from, to],
      ` ORDER BY seq LIMIT ${limit}`,
    );
  }

  async committeeFeed(
    tenantId: string,
    committeeId: string,
    options: PageOptions = {},
  ): Promise<Page<CommitteeFeedEntry>> {
    const limit = pageLimit(options.limit);
    const rows = await this.#feed(
      TableName.committeeFeed,
      tenantId,
      committeeId,
      pageAfter(options.after) + 1,
      null,
      limit + 1,
    );
    return {
      entries: rows.slice(0, limit) as unknown as CommitteeFeedEntry[],
      hasMore: rows.length > limit,
    };
  }

  async userFeed(
    tenantId: string,
    userId: string,
    options: PageOptions = {},
  ): Promise<Page<UserFeedEntry>> {
    const limit = pageLimit(options.limit);
    const rows = await this.#feed(
      TableName.userFeed,
      tenantId,
      userId,
      pageAfter(options.after) + 1,
      null,
      limit + 1,
    );
    return {
      entries: rows.slice(0, limit) as unknown as UserFeedEntry[],
      hasMore: rows.length > limit,
    };
  }

  async manifestCommittees(
    tenantId: string,
    userId: string,
  ): Promise<readonly ManifestCommittee[]> {
    const rows = await this.#rows(
      TableName.manifest,
      'tenant_id = ? AND user_id = ?',
      [tenantId, userId],
      ' ORDER BY committee_id',
    );
    return rows.map((row) => ({
      committeeId: row['committeeId'] as string,
      role: row['role'] as MemberRole,
      leftAtSeq: row['leftAtSeq'] as number | null,
    }));
  }

  /**
   * Reads one feed from a cursor position: the entry at the position itself is fetched too,
   * which proves the position is not ahead of the feed (sequences have no gaps), then up to
   * `limit + 1` entries after it.
   */
  /**
   * Every committee feed of the manifest from its cursor position, in one statement (one
   * round trip however many committees), checked as `#feedSince` checks one feed.
   */
  async #committeeFeedsSince(
    tenantId: string,
    committees: readonly ManifestCommittee[],
    positions: Readonly<Record<string, number>>,
    limit: number,
  ): Promise<Map<string, Row[]>> {
    const parts: string[] = [];
    const params: unknown[] = [];
    for (const [i, committee] of committees.entries()) {
      const position = positions[committee.committeeId] ?? 0;
      const to = committee.leftAtSeq;
      if (to !== null && position > to) throw cursorFuture(committee.committeeId, position, to);
      const upper = to === null ? '' : ' AND seq <= ?';
      const count = limit + (position === 0 ? 1 : 2);
      parts.push(
        `SELECT * FROM (SELECT * FROM rm_committee_feed WHERE tenant_id = ? AND committee_id = ? AND seq >= ?${upper} ORDER BY seq LIMIT ${count}) AS f${i}`,
      );
      params.push(tenantId, committee.committeeId, position === 0 ? 1 : position);
      if (to !== null) params.push(to);
    }
    const byCommittee = new Map<string, Row[]>(committees.map((c) => [c.committeeId, []]));
    if (parts.length === 0) return byCommittee;
    for (const raw of await this.query(parts.join(' UNION ALL '), params)) {
      const row = fromDb(TableName.committeeFeed, raw);
      byCommittee.get(row['committeeId'] as string)?.push(row);
    }
    for (const [committeeId, rows] of byCommittee) {
      rows.sort((a, b) => (a['seq'] as number) - (b['seq'] as number));
      const position = positions[committeeId] ?? 0;
      if (position === 0) continue;
      if (rows[0]?.['seq'] !== position) throw cursorFuture(committeeId, position, position - 1);
      byCommittee.set(committeeId, rows.slice(1));
    }
    return byCommittee;
  }

  async #feedSince(
    table: typeof TableName.committeeFeed | typeof TableName.userFeed,
    tenantId: string,
    id: string,
    position: number,
    to: number | null,
    limit: number,
  ): Promise<Row[]> {
    if (to !== null && position > to) throw cursorFuture(`${id}`, position, to);
    const from = position === 0 ? 1 : position;
    const rows = await this.#feed(table, tenantId, id, from, to, limit + (position === 0 ? 1 : 2));
    if (position === 0) return rows;
    if (rows[0]?.['seq'] !== position) {
      throw cursorFuture(table === TableName.userFeed ? 'user' : id, position, position - 1);
    }
    return rows.slice(1);
  }

  async manifestDelta(options: ManifestDeltaOptions): Promise<ManifestDelta> {
    const { tenantId, userId } = options;
    const limit = pageLimit(options.limit);
    const cursor =
      options.cursor === null
        ? { tenantId, userId, user: 0, committees: {} as Readonly<Record<string, number>> }
        : decodeCursor(options.cursor);
    if (cursor.tenantId !== tenantId || cursor.userId !== userId) {
      throw cursorForeign('it was issued to another user');
    }
    const committees = await this.manifestCommittees(tenantId, userId);
    const readable = new Map(committees.map((c) => [c.committeeId, c]));
    for (const id of Object.keys(cursor.committees)) {
      if (!readable.has(id))
        throw cursorForeign(`it names committee ${id}, which the user never read`);
    }
    type Taken = { readonly feed: string; readonly entry: ManifestEntry };
    const candidates: Taken[] = [];
    let truncated = false;
    const userRows = await this.#feedSince(
      TableName.userFeed,
      tenantId,
      userId,
      cursor.user,
      null,
      limit,
    );
    if (userRows.length > limit) truncated = true;
    for (const row of userRows.slice(0, limit)) {
      candidates.push({ feed: '', entry: { feed: 'user', ...(row as unknown as UserFeedEntry) } });
    }
    for (const [committeeId, rows] of await this.#committeeFeedsSince(
      tenantId,
      committees,
      cursor.committees,
      limit,
    )) {
      if (rows.length > limit) truncated = true;
      for (const row of rows.slice(0, limit)) {
        candidates.push({
          feed: committeeId,
          entry: { feed: 'committee', ...(row as unknown as CommitteeFeedEntry) },
        });
      }
    }
    // Merge by log position; each feed's share of the page is a prefix of it, so the cursor
    // can move each feed to the last entry taken from it.
    candidates.sort((a, b) =>
      a.entry.position < b.entry.position ? -1 : a.entry.position > b.entry.position ? 1 : 0,
    );
    const taken = candidates.slice(0, limit);
    const next = {
      user: cursor.user,
      committees: { ...cursor.committees } as Record<string, number>,
    };
    for (const committee of committees) next.committees[committee.committeeId] ??= 0;
    for (const { feed, entry } of taken) {
      if (entry.feed === 'user') next.user = entry.seq;
      else next.committees[feed] = entry.seq;
    }
    return {
      entries: taken.map((t) => t.entry),
      cursor: encodeCursor({ tenantId, userId, user: next.user, committees: next.committees }),
      hasMore: truncated || candidates.length > limit,
    };
  }

  async document(tenantId: string, documentId: string): Promise<DocumentSummary | null> {
    const [row] = await this.#rows(TableName.documents, 'tenant_id = ? AND document_id = ?', [
      tenantId,
      documentId,
    ]);
    return row === undefined ? null : (row as unknown as DocumentSummary);
  }

  async documentVersions(
    tenantId: string,
    documentId: string,
  ): Promise<readonly DocumentVersion[]> {
    const rows = await this.#rows(
      TableName.versions,
      'tenant_id = ? AND document_id = ?',
      [tenantId, documentId],
      ' ORDER BY version',
    );
    return rows as unknown as DocumentVersion[];
  }

  async *blobReferences(tenantId?: string): AsyncIterable<BlobReference> {
    // Keyset pages, so a large store is never read into memory at once.
    let after: [string, string, string] = ['', '', ''];
    for (;;) {
      const scope = tenantId === undefined ? '' : 'tenant_id = ? AND ';
      const rows = await this.query(
        `SELECT DISTINCT tenant_id, kind, hash FROM rm_blob_refs WHERE ${scope}(tenant_id > ? OR (tenant_id = ? AND (kind > ? OR (kind = ? AND hash > ?)))) ORDER BY tenant_id, kind, hash LIMIT 1000`,
        [
          ...(tenantId === undefined ? [] : [tenantId]),
          after[0],
          after[0],
          after[1],
          after[1],
          after[2],
        ],
      );
      for (const row of rows) {
        yield {
          tenant: String(row['tenant_id']),
          kind: row['kind'] as BlobReference['kind'],
          hash: String(row['hash']),
        };
      }
      const last = rows.at(-1);
      if (rows.length < 1000 || last === undefined) return;
      after = [String(last['tenant_id']), String(last['kind']), String(last['hash'])];
    }
  }

  async auditTrail(query: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = pageLimit(query.limit);
    const conditions = ['tenant_id = ?', 'position > ?'];
    const params: unknown[] = [query.tenantId, query.afterPosition ?? -1n];
    if (query.subjectKind !== undefined) {
      conditions.push('subject_kind = ?');
      params.push(query.subjectKind);
    }
    if (query.subjectId !== undefined) {
      conditions.push('subject_id = ?');
      params.push(query.subjectId);
    }
    if (query.actorUserId !== undefined) {
      conditions.push('actor_user_id = ?');
      params.push(query.actorUserId);
    }
    const where = conditions.join(' AND ');
    const rows = await this.#rows(
      TableName.audit,
      where,
      params,
      ` ORDER BY position, idx LIMIT ${limit + 1}`,
    );
    let entries = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    const last = entries.at(-1);
    if (hasMore && last !== undefined && rows[limit]?.['position'] === last['position']) {
      // Never split one event's entries across pages: the next page starts after a position.
      const rest = await this.#rows(
        TableName.audit,
        `${where.replace('position > ?', 'position = ?')} AND idx > ?`,
        [query.tenantId, last['position'], ...params.slice(2), last['idx']],
        ' ORDER BY idx',
      );
      entries = [...entries, ...rest];
    }
    return {
      entries: entries.map(
        ({ idx, ...entry }) => ({ ...entry, index: idx }) as unknown as AuditEntry,
      ),
      hasMore,
    };
  }

  async snapshot(): Promise<string> {
    const contents = new Map<TableName, Row[]>();
    for (const definition of tables) {
      const rows = await this.query(`SELECT * FROM ${sqlTable(definition)}`, []);
      contents.set(
        definition.name,
        rows.map((row) => fromDb(definition.name, row)),
      );
    }
    return snapshotText((name) => contents.get(name) ?? []);
  }
}
