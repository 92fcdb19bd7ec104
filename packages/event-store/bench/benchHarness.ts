/**
 * The event-store benchmark harness: the same scenarios against each backend's adapter and
 * against its raw driver doing the same inserts with the same durability (the limit).
 *
 * A backend plugs in with a file `bench/<name>BenchBackend.ts` that exports
 * `benchBackend: BenchBackend`; `eventStore.bench.ts --backend=<name>[,<name>...]` loads it.
 */
import { eventIdFor, type EventStore } from '../src/index.js';

/** One event as the raw driver inserts it: the same bytes the adapter stores. */
export interface RawEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** The raw driver: plain inserts into the same table shape, each call one durable transaction. */
export interface RawDriver {
  /** Inserts events at revisions `fromRevision`.. of `stream` in one transaction. */
  append(stream: string, fromRevision: number, events: readonly RawEvent[]): Promise<void>;
  /** Reads the whole log in global order; returns how many rows it read. */
  readAll(): Promise<number>;
  close(): Promise<void>;
}

export interface BenchBackend {
  /** Shown in the output, e.g. `SQLite (better-sqlite3, WAL, synchronous=FULL)`. */
  readonly label: string;
  /** A store on fresh, empty storage. */
  openAdapter(): Promise<EventStore>;
  /** The raw driver on fresh, empty storage of its own. */
  openRaw(): Promise<RawDriver>;
  /** Removes what openAdapter/openRaw created (after they were closed). */
  cleanup(): Promise<void>;
}

export interface BenchSizes {
  /** Appends by the single writer. */
  readonly singleAppends: number;
  /** Appends in all by the 64 concurrent writers. */
  readonly concurrentAppends: number;
  readonly writers: number;
  /** Batches of 100 events of one stream. */
  readonly batches: number;
  readonly batchSize: number;
}

export const defaultSizes: BenchSizes = {
  singleAppends: 1_000,
  concurrentAppends: 12_800,
  writers: 64,
  batches: 1_000,
  batchSize: 100,
};

export interface ScenarioResult {
  readonly scenario: string;
  readonly events: number;
  readonly adapterPerSecond: number;
  readonly rawPerSecond: number;
}

const encoder = new TextEncoder();
const metadata = encoder.encode('{"commandId":"bench","occurredAt":"2026-01-01T00:00:00.000Z"}');
const payload = (n: number): Uint8Array =>
  encoder.encode(
    `{"documentId":"d${n}","version":${n},"size":123456,"recordHash":"${'A'.repeat(86)}"}`,
  );

const perSecond = (events: number, ms: number): number => (events * 1000) / ms;

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

const rawEvents = (prefix: string, from: number, count: number): RawEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    // Real UUIDv5 ids, as the adapter derives them: their index is part of the cost.
    eventId: eventIdFor('bench', prefix, from + i),
    type: 'VersionCommitted.v1',
    data: payload(from + i),
    metadata,
  }));

interface Scenario {
  readonly name: string;
  /** Runs once on the adapter; returns the number of events it wrote or read. */
  adapter(store: EventStore, round: number): Promise<number>;
  raw(raw: RawDriver, round: number): Promise<number>;
}

const newEvent = (n: number) => ({ type: 'VersionCommitted.v1', data: payload(n), metadata });

const scenarios = (sizes: BenchSizes): Scenario[] => [
  {
    name: 'single-event appends, 1 writer',
    async adapter(store, round) {
      for (let i = 0; i < sizes.singleAppends; i += 1) {
        await store.append(`document-bench-r${round}s${i}`, [newEvent(i)], 'no_stream', {
          commandId: `r${round}s${i}`,
        });
      }
      return sizes.singleAppends;
    },
    async raw(raw, round) {
      for (let i = 0; i < sizes.singleAppends; i += 1) {
        await raw.append(`document-bench-r${round}s${i}`, 0, rawEvents(`r${round}s`, i, 1));
      }
      return sizes.singleAppends;
    },
  },
  {
    name: `single-event appends, ${sizes.writers} concurrent writers on distinct streams`,
    async adapter(store, round) {
      const each = Math.ceil(sizes.concurrentAppends / sizes.writers);
      await Promise.all(
        Array.from({ length: sizes.writers }, async (_, w) => {
          for (let i = 0; i < each; i += 1) {
            const expected = i === 0 ? 'no_stream' : BigInt(i - 1);
            await store.append(`document-bench-r${round}w${w}`, [newEvent(i)], expected, {
              commandId: `r${round}w${w}-${i}`,
            });
          }
        }),
      );
      return each * sizes.writers;
    },
    async raw(raw, round) {
      const each = Math.ceil(sizes.concurrentAppends / sizes.writers);
      await Promise.all(
        Array.from({ length: sizes.writers }, async (_, w) => {
          for (let i = 0; i < each; i += 1) {
            await raw.append(`document-bench-r${round}w${w}`, i, rawEvents(`r${round}w${w}`, i, 1));
          }
        }),
      );
      return each * sizes.writers;
    },
  },
  {
    name: `${sizes.batchSize}-event batches of one stream`,
    async adapter(store, round) {
      const { batches, batchSize } = sizes;
      for (let b = 0; b < batches; b += 1) {
        const events = Array.from({ length: batchSize }, (_, i) => newEvent(b * batchSize + i));
        const expected = b === 0 ? 'no_stream' : BigInt(b * batchSize - 1);
        await store.append(`document-bench-r${round}batched`, events, expected, {
          commandId: `r${round}b${b}`,
        });
      }
      return batches * batchSize;
    },
    async raw(raw, round) {
      const { batches, batchSize } = sizes;
      for (let b = 0; b < batches; b += 1) {
        await raw.append(
          `document-bench-r${round}batched`,
          b * batchSize,
          rawEvents(`r${round}b`, b * batchSize, batchSize),
        );
      }
      return batches * batchSize;
    },
  },
  {
    name: 'replay of the whole log (readAll)',
    async adapter(store) {
      let count = 0;
      for await (const _event of store.readAll()) count += 1;
      return count;
    },
    raw: (raw) => raw.readAll(),
  },
];

export interface BenchRun {
  readonly results: ScenarioResult[];
  /** Per round and scenario: [adapter events/s, raw events/s]. */
  readonly rounds: [number, number][][];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * Runs every scenario against the adapter and the raw driver of one backend, `rounds` times,
 * alternating which of the two goes first so that drift in the machine's load hits both alike;
 * reports the median of the rounds.
 */
export async function benchBackend(
  backend: BenchBackend,
  sizes: BenchSizes = defaultSizes,
  rounds = 3,
): Promise<BenchRun> {
  const store = await backend.openAdapter();
  const raw = await backend.openRaw();
  const list = scenarios(sizes);
  const perRound: [number, number][][] = [];
  const events: number[] = list.map(() => 0);
  try {
    for (let round = 0; round < rounds; round += 1) {
      const row: [number, number][] = [];
      for (const [index, scenario] of list.entries()) {
        let adapterRate = 0;
        let rawRate = 0;
        const runAdapter = async () => {
          let n = 0;
          const ms = await time(async () => (n = await scenario.adapter(store, round)));
          adapterRate = perSecond(n, ms);
          events[index] = n;
        };
        const runRaw = async () => {
          let n = 0;
          const ms = await time(async () => (n = await scenario.raw(raw, round)));
          rawRate = perSecond(n, ms);
        };
        if (round % 2 === 0) {
          await runAdapter();
          await runRaw();
        } else {
          await runRaw();
          await runAdapter();
        }
        row.push([adapterRate, rawRate]);
      }
      perRound.push(row);
    }
  } finally {
    await store.close();
    await raw.close();
    await backend.cleanup();
  }
  const results = list.map((scenario, index) => ({
    scenario: scenario.name,
    events: events[index] as number,
    adapterPerSecond: median(perRound.map((row) => (row[index] as [number, number])[0])),
    rawPerSecond: median(perRound.map((row) => (row[index] as [number, number])[1])),
  }));
  return { results, rounds: perRound };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A Markdown table of one backend's results. */
export function formatResults(label: string, run: BenchRun): string {
  const { results } = run;
  const lines = [
    `### ${label}`,
    '',
    `median of ${run.rounds.length} rounds; events/s per round (adapter / raw):`,
    '',
    ...results.map(
      (r, index) =>
        `- ${r.scenario}: ${run.rounds.map((row) => (row[index] ?? [0, 0]).map(fmt).join(' / ')).join('; ')}`,
    ),
    '',
    '| scenario | events | adapter events/s | raw driver events/s | adapter / raw |',
    '|---|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${fmt(r.events)} | ${fmt(r.adapterPerSecond)} | ${fmt(r.rawPerSecond)} | ${(r.adapterPerSecond / r.rawPerSecond).toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}
