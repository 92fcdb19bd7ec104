/**
 * Fault injection: one byte of a closed SQLite store's file is changed at a seeded position, and
 * the store is opened and used again. Every trial must end in a typed error (at open or at the
 * first call that meets the damage), in a verify that names the damaged event, or in data
 * identical to the original; never in events lost or changed while verify says clean, an
 * untyped error, or an append that forks a stream.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { bytesEqual, isRatsfachError } from '@ratsfach/kernel';
import {
  ANY,
  NO_STREAM,
  StoreIntegrityError,
  type EventStore,
  type RecordedEvent,
} from '../src/index.js';
import { openSqliteEventStore, type SqliteEventStoreOptions } from '../src/sqlite/index.js';

type Opener = (options: SqliteEventStoreOptions) => Promise<EventStore>;

const streams = ['document-t1-a', 'document-t1-b', 'committee-t1-c'];
const perStream = 15;

/** mulberry32: a small seeded generator, so a failing trial can be replayed by its number. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const sameEvents = (a: readonly RecordedEvent[], b: readonly RecordedEvent[]): boolean =>
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i] as RecordedEvent;
    return (
      x.stream === y.stream &&
      x.revision === y.revision &&
      x.globalPosition === y.globalPosition &&
      x.eventId === y.eventId &&
      x.type === y.type &&
      bytesEqual(x.data, y.data) &&
      bytesEqual(x.metadata, y.metadata) &&
      bytesEqual(x.hash, y.hash) &&
      bytesEqual(x.prevHash, y.prevHash)
    );
  });

const payload = (stream: number, i: number): Uint8Array =>
  new TextEncoder().encode(`{"s":${stream},"i":${i},"pad":"${'x'.repeat(60 + ((i * 7) % 40))}"}`);

/** Builds the pristine file (closed, WAL checkpointed into it) and what it holds. */
async function pristine(dir: string) {
  const path = join(dir, 'pristine.sqlite');
  const store = await openSqliteEventStore({ path });
  for (let round = 0; round < perStream / 3; round += 1) {
    for (const [s, stream] of streams.entries()) {
      await store.append(
        stream,
        [0, 1, 2].map((k) => ({
          type: 'Noted.v1',
          data: payload(s, round * 3 + k),
          metadata: new TextEncoder().encode('{}'),
        })),
        round === 0 ? NO_STREAM : BigInt(round * 3 - 1),
        { commandId: `${stream}-${round}` },
      );
    }
  }
  const all = await collect(store.readAll());
  await store.close();
  if (existsSync(`${path}-wal`)) throw new Error('the WAL was not checkpointed at close');
  return { path, bytes: readFileSync(path), all };
}

type Outcome = 'typed error' | 'reported by verify' | 'identical';

/** One trial on a damaged copy: what it ended in, or throws (fails the test) on a bad ending. */
async function trial(open: Opener, path: string, all: readonly RecordedEvent[]): Promise<Outcome> {
  let store: EventStore | undefined;
  try {
    store = await open({ path });
    const readAll = await collect(store.readAll());
    const byStream = await Promise.all(streams.map((s) => collect(store!.readStream(s))));
    const heads = await Promise.all(streams.map((s) => store!.streamHead(s)));
    const report = await store.verify();
    const identical =
      sameEvents(readAll, all) &&
      streams.every((s, i) =>
        sameEvents(
          byStream[i] as RecordedEvent[],
          all.filter((e) => e.stream === s),
        ),
      ) &&
      heads.every((h) => h?.revision === BigInt(perStream - 1));
    if (!identical && report.firstProblem === null) {
      throw new Error('SILENT: the store served other data while verify said clean');
    }
    // The next append must extend the stream at its true head, never write beside an event.
    const appended = await store.append(
      streams[0] as string,
      [{ type: 'After.v1', data: new Uint8Array([1]), metadata: new Uint8Array() }],
      ANY,
      { commandId: 'after-the-flip' },
    );
    if (appended.nextExpectedRevision !== BigInt(perStream)) {
      throw new Error(`FORK: appended at revision ${appended.nextExpectedRevision}`);
    }
    const retried = await store.append(
      streams[1] as string,
      [0, 1, 2].map((k) => ({
        type: 'Noted.v1',
        data: payload(1, k),
        metadata: new TextEncoder().encode('{}'),
      })),
      NO_STREAM,
      { commandId: `${streams[1]}-0` },
    );
    if (!retried.replayed) throw new Error('DUPLICATE: a retried command was written again');
    return report.firstProblem === null ? 'identical' : 'reported by verify';
  } catch (error) {
    if (error instanceof Error && /^(SILENT|FORK|DUPLICATE)/.test(error.message)) throw error;
    if (!isRatsfachError(error)) {
      throw new Error(`UNTYPED: ${String(error)}`, { cause: error });
    }
    return 'typed error';
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** The byte range of the stream index's root page: the index the reported fork came through. */
function streamIndexPage(path: string): { start: number; end: number } {
  const db = new Database(path, { readonly: true });
  try {
    const { rootpage } = db
      .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_events_1'")
      .get() as { rootpage: number };
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return { start: (rootpage - 1) * pageSize, end: rootpage * pageSize };
  } finally {
    db.close();
  }
}

for (const [name, open, trials] of [['in-process store', openSqliteEventStore, 60]] as const) {
  t.test(`${name}: a flipped byte ends typed, reported or harmless`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-damage-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { path: pristinePath, bytes, all } = await pristine(dir);
    const index = streamIndexPage(pristinePath);
    const random = seeded(0x5eed + trials);
    const outcomes = new Map<Outcome, number>();
    for (let i = 0; i < trials; i += 1) {
      // A third of the trials aim at the stream index's page, the rest anywhere in the file.
      const [from, to] = i % 3 === 0 ? [index.start, index.end] : [0, bytes.length];
      const offset = from + Math.floor(random() * (to - from));
      const damaged = Buffer.from(bytes);
      damaged[offset] = (damaged[offset] as number) ^ (1 + Math.floor(random() * 255));
      const path = join(dir, `trial-${i}.sqlite`);
      writeFileSync(path, damaged);
      const outcome = await trial(open, path, all).catch((error: Error) => {
        t.fail(`trial ${i} (byte ${offset}): ${error.message}`);
        return undefined;
      });
      if (outcome !== undefined) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      rmSync(path, { force: true });
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
    }
    t.comment(JSON.stringify(Object.fromEntries(outcomes)));
    t.ok((outcomes.get('typed error') ?? 0) > 0, 'some flips were refused with a typed error');
    copyFileSync(pristinePath, join(dir, 'again.sqlite'));
    t.equal(
      await trial(open, join(dir, 'again.sqlite'), all),
      'identical',
      'an intact copy serves',
    );
  });
}

t.test('refuses a file whose stream index lost events, with a restore hint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-damage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { path } = await pristine(dir);
  // The reported failure, made on purpose: the index no longer lists a stream's last events
  // while the table still holds them (writable_schema lets the test build such a file).
  const db = new Database(path);
  db.exec(`CREATE TABLE shadow AS SELECT * FROM events;
    DELETE FROM events WHERE stream = 'document-t1-a' AND revision >= 10;`);
  const { rootpage } = db
    .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'events'")
    .get() as { rootpage: number };
  const shadowRoot = (
    db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'shadow'").get() as {
      rootpage: number;
    }
  ).rootpage;
  // Point the events table at the full copy of its rows; its index keeps the shortened content.
  db.unsafeMode(true);
  db.pragma('writable_schema = ON');
  db.prepare("UPDATE sqlite_master SET rootpage = ? WHERE name = 'events'").run(shadowRoot);
  db.prepare("UPDATE sqlite_master SET rootpage = ? WHERE name = 'shadow'").run(rootpage);
  db.pragma('writable_schema = OFF');
  db.close();
  for (const open of [openSqliteEventStore]) {
    const error = await open({ path }).catch((e: unknown) => e);
    t.type(error, StoreIntegrityError, `${open.name} refuses at open`);
    t.match(error, {
      code: 'RATSFACH_EVENT_STORE_INTEGRITY',
      details: { reason: 'file_damaged' },
      hint: /restore the event log from the last backup/,
    });
  }
});
