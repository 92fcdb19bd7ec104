/**
 * Projection benchmark (not a test):
 *
 * 1. Rebuild of the read models from a log of N events (default 1,000,000; 70% deliveries, 20%
 *    document versions, 10% membership and key-epoch records), on SQLite and on PostgreSQL:
 *    `rebuild()` reads the SQLite log, decodes every event, runs the projections and applies
 *    batches of 5,000 with their checkpoint. Beside it, in the same run, the raw insert loop of
 *    the same rows (computed beforehand, untimed): SQLite `INSERT OR REPLACE` per row in one
 *    transaction per batch; PostgreSQL one `unnest` upsert per table per batch.
 * 2. Manifest delta for a user who reads 100,000 documents in 20 committees with 10 changed since
 *    the cursor: `manifestDelta` latency at the store (p50, p99 over many calls).
 *
 *   scripts/run-ts.sh services/projector/bench/projection.bench.ts [--events=1000000]
 *     [--backends=sqlite,postgres] [--documents=100000] [--calls=2000]
 * PostgreSQL needs RATSFACH_TEST_PG_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeEvent, parseStreamName, type DomainEvent } from '@ratsfach/domain';
import { ANY, type EventStore } from '@ratsfach/event-store';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import {
  allProjections,
  projectEvents,
  ProjectionState,
  tableOf,
  storedCell,
  keyString,
  type ProjectedEvent,
  type ReadModelStore,
  type RowChange,
} from '@ratsfach/read-model';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { openPostgresReadModelStore } from '@ratsfach/read-model/postgres';
import { rebuild } from '../src/rebuild.js';
import { toProjectedEvent } from '../src/toProjectedEvent.js';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const totalEvents = Number(arg('events', '1000000'));
const backends = arg('backends', 'sqlite,postgres').split(',');
const deltaDocuments = Number(arg('documents', '100000'));
const deltaCalls = Number(arg('calls', '2000'));
const pgUrl = process.env['RATSFACH_TEST_PG_URL'] ?? '';
const batchSize = 5000;

const dir = mkdtempSync(join(tmpdir(), 'ratsfach-projection-bench-'));
const pgSchemas: string[] = [];
const fp = (n: number): string => n.toString(16).padStart(64, '0');
const hash = (n: number): Uint8Array => {
  const bytes = new Uint8Array(64);
  new DataView(bytes.buffer).setUint32(0, n);
  bytes[63] = 1;
  return bytes;
};
const record = new Uint8Array(320).fill(7);
const carrier = (n: number, sequence: number) => ({ record, recordHash: hash(n), sequence });
const at = '2026-06-01T10:00:00.000Z';
let commandCount = 0;
const meta = () => ({ commandId: `c${++commandCount}`, occurredAt: at });
const ev = (type: string, data: object): DomainEvent =>
  ({ type, data, metadata: meta() }) as unknown as DomainEvent;

const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
const committees = Array.from({ length: 20 }, (_, i) => `c${i}`);

/** Appends the synthetic log: a setup, then chunks of 1,000 events in the stated mix. */
async function fillLog(store: EventStore): Promise<number> {
  let n = 0;
  const append = async (stream: string, events: DomainEvent[]) => {
    await store.append(stream, events.map(encodeEvent), ANY, { commandId: `a${n}` });
    n += events.length;
  };
  await append('tenant-t1', [
    ev('TenantCreated', {
      tenantId: 't1',
      rootFingerprint: fp(1),
      createdAt: 1_767_000_000,
      ...carrier(1, 0),
    }),
    ev('AdminDeviceCertified', {
      deviceId: 'adm1',
      userId: 'admin',
      fingerprint: fp(2),
      notBefore: 1,
      notAfter: 2_000_000_000,
      ...carrier(2, 1),
    }),
  ]);
  for (const user of users) {
    await append(`user-t1-${user}`, [
      ev('UserCreated', { tenantId: 't1', userId: user, signerDeviceId: 'adm1', ...carrier(3, 0) }),
      ev('DeviceCertified', {
        deviceId: `${user}d`,
        fingerprint: fp(4),
        notBefore: 1,
        notAfter: 2_000_000_000,
        signerDeviceId: 'adm1',
        ...carrier(4, 1),
      }),
    ]);
  }
  const committeeSeq = new Map<string, number>();
  for (const c of committees) {
    committeeSeq.set(c, 1);
    await append(`committee-t1-${c}`, [
      ev('CommitteeCreated', {
        tenantId: 't1',
        committeeId: c,
        signerDeviceId: 'adm1',
        ...carrier(5, 0),
      }),
    ]);
  }
  let doc = 0;
  let chunk = 0;
  while (n < totalEvents) {
    const day = `202606${String(1 + (chunk % 28)).padStart(2, '0')}`;
    const deliveries: DomainEvent[] = [];
    for (let i = 0; i < 700; i++) {
      deliveries.push(
        ev('DocumentDelivered', {
          tenantId: 't1',
          committeeId: committees[i % 20],
          documentId: `d${(doc + i) % Math.max(doc, 1)}`,
          version: 1,
          userId: users[i % 200],
          deviceId: `${users[i % 200]}d`,
          deliveredAt: `2026-06-${day.slice(6)}T10:00:00.000Z`,
          attestedBy: 'server',
        }),
      );
    }
    await append(`delivery-t1-${day}`, deliveries);
    for (let d = 0; d < 10; d++, doc++) {
      const committeeId = committees[doc % 20] as string;
      const events: DomainEvent[] = [
        ev('DocumentCreated', {
          tenantId: 't1',
          documentId: `d${doc}`,
          committeeId,
          epoch: 0,
          committeeSequence: 1,
          committeeHead: hash(9),
          signerUserId: 'u0',
          signerDeviceId: 'u0d',
          ...carrier(doc, 0),
        }),
      ];
      for (let v = 1; v < 20; v++) {
        events.push(
          ev('VersionCommitted', {
            version: v,
            parentVersion: v === 1 ? null : v - 1,
            epoch: 0,
            committeeSequence: 1,
            committeeHead: hash(9),
            contentHash: hash(doc * 20 + v),
            size: 100_000,
            keySlotHash: hash(doc * 20 + v + 7),
            signerUserId: 'u0',
            signerDeviceId: 'u0d',
            ...carrier(doc * 20 + v, v),
          }),
        );
      }
      await append(`document-t1-d${doc}`, events);
    }
    for (let m = 0; m < 25; m++) {
      const c = committees[(chunk + m) % 20] as string;
      const user = users[(chunk * 25 + m) % 200] as string;
      const seq = committeeSeq.get(c) as number;
      committeeSeq.set(c, seq + 4);
      await append(`committee-t1-${c}`, [
        ev('MembershipChanged', {
          change: 'add',
          userId: user,
          role: 'reader',
          signerDeviceId: 'adm1',
          ...carrier(seq, seq),
        }),
        ev('MembershipCoSigned', {
          userId: user,
          membershipSequence: seq,
          membershipHash: hash(seq),
          signerUserId: 'u0',
          signerDeviceId: 'u0d',
          ...carrier(seq + 1, seq + 1),
        }),
        ev('KeyEpochStarted', {
          epoch: seq,
          recipients: [{ userId: user, deviceId: `${user}d`, fingerprint: fp(4) }],
          signerUserId: 'u0',
          signerDeviceId: 'u0d',
          ...carrier(seq + 2, seq + 2),
        }),
        ev('MembershipChanged', {
          change: 'remove',
          userId: user,
          role: 'reader',
          signerDeviceId: 'adm1',
          ...carrier(seq + 3, seq + 3),
        }),
      ]);
    }
    chunk++;
  }
  return n;
}

/** The raw limit: the same rows written with no projection and no state. */
interface RawWriter {
  write(changes: readonly RowChange[]): Promise<void>;
  close(): Promise<void>;
}

async function rawSqlite(): Promise<RawWriter> {
  // The same schema and pragmas as the store, created by it.
  const path = join(dir, `raw-${randomBytes(3).toString('hex')}.sqlite`);
  await (await openSqliteReadModelStore({ path })).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const statements = new Map<string, Database.Statement>();
  const statement = (change: RowChange): Database.Statement => {
    const key = `${change.table} ${change.op}`;
    let s = statements.get(key);
    if (s === undefined) {
      const t = tableOf(change.table);
      const name = `rm_${t.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
      s =
        change.op === 'upsert'
          ? db.prepare(
              `INSERT OR REPLACE INTO ${name} VALUES (${t.columns.map(() => '?').join(', ')})`,
            )
          : db.prepare(
              `DELETE FROM ${name} WHERE ${t.key.map((k) => `${t.columns.find((c) => c.name === k)?.sql} = ?`).join(' AND ')}`,
            );
      statements.set(key, s);
    }
    return s;
  };
  const write = db.transaction((changes: readonly RowChange[]) => {
    for (const change of changes) {
      const t = tableOf(change.table);
      if (change.op === 'upsert')
        statement(change).run(...t.columns.map((c) => storedCell(c, change.row[c.name])));
      else
        statement(change).run(
          ...t.key.map((k) =>
            storedCell(
              t.columns.find((c) => c.name === k)!,
              change.key[k],
            ),
          ),
        );
    }
  });
  return {
    write: async (changes) => write(changes),
    close: async () => {
      db.close();
    },
  };
}

async function rawPostgres(): Promise<RawWriter> {
  const schema = `rm_bench_raw_${randomBytes(4).toString('hex')}`;
  pgSchemas.push(schema);
  const store = await openPostgresReadModelStore({
    connection: { connectionString: pgUrl },
    schema,
  });
  await store.close();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const types = { text: 'text[]', int: 'int8[]', bigint: 'int8[]', bool: 'int2[]' } as const;
  return {
    async write(changes) {
      const byTable = new Map<string, Map<string, RowChange>>();
      for (const change of changes) {
        const t = tableOf(change.table);
        const rows = byTable.get(t.name) ?? new Map<string, RowChange>();
        byTable.set(t.name, rows);
        const key = keyString(t, change.op === 'upsert' ? change.row : change.key);
        rows.delete(key);
        rows.set(key, change);
      }
      await client.query('BEGIN');
      for (const [name, rows] of byTable) {
        const t = tableOf(name as RowChange['table']);
        const table = `"${schema}".rm_${t.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
        const upserts = [...rows.values()].filter((c) => c.op === 'upsert');
        const deletes = [...rows.values()].filter((c) => c.op === 'delete');
        const keyCols = t.key.map((k) => t.columns.find((c) => c.name === k)!);
        if (deletes.length > 0) {
          await client.query(
            `DELETE FROM ${table} WHERE (${keyCols.map((c) => c.sql).join(', ')}) IN (SELECT * FROM unnest(${keyCols.map((c, i) => `$${i + 1}::${types[c.type]}`).join(', ')}))`,
            keyCols.map((c) =>
              deletes.map((d) => cell(storedCell(c, d.op === 'delete' ? d.key[c.name] : null))),
            ),
          );
        }
        if (upserts.length > 0) {
          const rest = t.columns.filter((c) => !t.key.includes(c.name));
          await client.query(
            `INSERT INTO ${table} SELECT * FROM unnest(${t.columns.map((c, i) => `$${i + 1}::${types[c.type]}`).join(', ')}) ON CONFLICT (${keyCols.map((c) => c.sql).join(', ')}) DO UPDATE SET ${rest.map((c) => `${c.sql} = excluded.${c.sql}`).join(', ')}`,
            t.columns.map((c) =>
              upserts.map((u) => cell(storedCell(c, u.op === 'upsert' ? u.row[c.name] : null))),
            ),
          );
        }
      }
      await client.query('COMMIT');
    },
    close: () => client.end(),
  };
}
const cell = (v: string | number | bigint | null) => (typeof v === 'bigint' ? v.toString() : v);

async function openBackend(name: string): Promise<ReadModelStore> {
  if (name === 'sqlite')
    return openSqliteReadModelStore({
      path: join(dir, `rm-${randomBytes(3).toString('hex')}.sqlite`),
    });
  const schema = `rm_bench_${randomBytes(4).toString('hex')}`;
  pgSchemas.push(schema);
  return openPostgresReadModelStore({ connection: { connectionString: pgUrl }, schema });
}

async function rebuildRound(eventStore: EventStore, name: string): Promise<void> {
  const readModel = await openBackend(name);
  let started = performance.now();
  const events = await rebuild({ eventStore, readModel, batchSize });
  const seconds = (performance.now() - started) / 1000;
  await readModel.close();
  // The raw loop: rows computed per batch (untimed), only the writes timed.
  const raw = name === 'sqlite' ? await rawSqlite() : await rawPostgres();
  const state = new ProjectionState();
  let batch: ProjectedEvent[] = [];
  let rawMs = 0;
  const flush = async () => {
    const changes = projectEvents(allProjections, state, batch);
    batch = [];
    started = performance.now();
    await raw.write(changes);
    rawMs += performance.now() - started;
  };
  for await (const recorded of eventStore.readAll()) {
    batch.push(toProjectedEvent(recorded));
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  await raw.close();
  const rate = events / seconds;
  const rawRate = events / (rawMs / 1000);
  console.log(
    `rebuild ${name.padEnd(8)} ${events} events: ${Math.round(rate).toLocaleString('en')} ev/s (${seconds.toFixed(1)} s); ` +
      `raw insert loop of the same rows: ${Math.round(rawRate).toLocaleString('en')} ev/s; ratio ${(rate / rawRate).toFixed(2)}; target ≥ 30,000 ev/s: ${rate >= 30_000 ? 'met' : 'NOT met'}`,
  );
}

/** A user reading `documents` documents in 20 committees; 10 change after the cursor. */
async function deltaRound(name: string): Promise<void> {
  const store = await openBackend(name);
  let position = 0n;
  const projected = (stream: string, revision: number, event: DomainEvent): ProjectedEvent => {
    const parsed = parseStreamName(stream);
    position += 1n;
    return {
      position,
      stream,
      revision: BigInt(revision),
      kind: parsed.kind,
      tenantId: parsed.tenant,
      streamId: parsed.id,
      event,
    };
  };
  const setup: ProjectedEvent[] = [];
  setup.push(
    projected(
      'user-t1-reader',
      0,
      ev('UserCreated', {
        tenantId: 't1',
        userId: 'reader',
        signerDeviceId: 'adm1',
        ...carrier(1, 0),
      }),
    ),
  );
  for (const c of committees) {
    setup.push(
      projected(
        `committee-t1-${c}`,
        0,
        ev('CommitteeCreated', {
          tenantId: 't1',
          committeeId: c,
          signerDeviceId: 'adm1',
          ...carrier(2, 0),
        }),
      ),
    );
    setup.push(
      projected(
        `committee-t1-${c}`,
        1,
        ev('MembershipChanged', {
          change: 'add',
          userId: 'reader',
          role: 'reader',
          signerDeviceId: 'adm1',
          ...carrier(3, 1),
        }),
      ),
    );
    setup.push(
      projected(
        `committee-t1-${c}`,
        2,
        ev('MembershipCoSigned', {
          userId: 'reader',
          membershipSequence: 1,
          membershipHash: hash(3),
          signerUserId: 'u0',
          signerDeviceId: 'u0d',
          ...carrier(4, 2),
        }),
      ),
    );
  }
  await store.apply(setup, position);
  const version = (doc: number, v: number) =>
    ev('VersionCommitted', {
      version: v,
      parentVersion: v === 1 ? null : v - 1,
      epoch: 0,
      committeeSequence: 1,
      committeeHead: hash(9),
      contentHash: hash(doc),
      size: 1000,
      keySlotHash: hash(doc + 1),
      signerUserId: 'u0',
      signerDeviceId: 'u0d',
      ...carrier(doc, v),
    });
  for (let start = 0; start < deltaDocuments; start += 2500) {
    const batch: ProjectedEvent[] = [];
    for (let doc = start; doc < Math.min(start + 2500, deltaDocuments); doc++) {
      const committeeId = committees[doc % 20] as string;
      batch.push(
        projected(
          `document-t1-x${doc}`,
          0,
          ev('DocumentCreated', {
            tenantId: 't1',
            documentId: `x${doc}`,
            committeeId,
            epoch: 0,
            committeeSequence: 1,
            committeeHead: hash(9),
            signerUserId: 'u0',
            signerDeviceId: 'u0d',
            ...carrier(doc, 0),
          }),
        ),
      );
      batch.push(projected(`document-t1-x${doc}`, 1, version(doc, 1)));
    }
    await store.apply(batch, position);
  }
  let cursor: string | null = null;
  for (;;) {
    const delta = await store.manifestDelta({
      tenantId: 't1',
      userId: 'reader',
      cursor,
      limit: 10_000,
    });
    cursor = delta.cursor;
    if (!delta.hasMore) break;
  }
  const changes: ProjectedEvent[] = [];
  for (let i = 0; i < 10; i++) {
    const doc = (i * 997) % deltaDocuments;
    changes.push(projected(`document-t1-x${doc}`, 2, version(doc, 2)));
  }
  await store.apply(changes, position);
  const times: number[] = [];
  for (let i = 0; i < deltaCalls; i++) {
    const started = performance.now();
    const delta = await store.manifestDelta({ tenantId: 't1', userId: 'reader', cursor });
    times.push(performance.now() - started);
    if (delta.entries.length !== 10)
      throw new Error(`expected 10 changes, got ${delta.entries.length}`);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) =>
    (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(2);
  console.log(
    `manifest delta ${name.padEnd(8)} ${deltaDocuments} documents, 20 committees, 10 changed: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms over ${deltaCalls} calls; target p99 < 10 ms (embedded): ${Number(p(0.99)) < 10 ? 'met' : 'NOT met'}`,
  );
  await store.close();
}

try {
  console.log(
    `projection benchmark: ${totalEvents} events, node ${process.version}, load ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const eventStore = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  let started = performance.now();
  const written = await fillLog(eventStore);
  console.log(
    `log written: ${written} events in ${((performance.now() - started) / 1000).toFixed(1)} s (setup, untimed)`,
  );
  started = performance.now();
  for (const name of backends) await rebuildRound(eventStore, name);
  await eventStore.close();
  for (const name of backends) await deltaRound(name);
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (pgSchemas.length > 0) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    for (const schema of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
