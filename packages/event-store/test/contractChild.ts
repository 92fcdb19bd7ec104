/**
 * Child process of the contract suite's SIGKILL case: opens the store as the backend describes,
 * appends three events, prints `acked <result>` once the append is acknowledged and then waits to
 * be killed. Argument: JSON of ChildOpenSpec plus `stream` and `commandId`.
 */
import { pathToFileURL } from 'node:url';
import { NO_STREAM, type EventStore } from '../src/index.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as {
  module: string;
  exportName: string;
  arg: unknown;
  stream: string;
  commandId: string;
};
const imported = (await import(pathToFileURL(spec.module).href)) as Record<string, unknown>;
const open = imported[spec.exportName] as (arg: unknown) => Promise<EventStore> | EventStore;
const store = await open(spec.arg);
const text = new TextEncoder();
const result = await store.append(
  spec.stream,
  [0, 1, 2].map((i) => ({
    type: 'Killed.v1',
    data: text.encode(`event ${i}`),
    metadata: text.encode('{}'),
  })),
  NO_STREAM,
  { commandId: spec.commandId },
);
process.stdout.write(`acked ${JSON.stringify({ eventIds: result.eventIds })}\n`);
setInterval(() => undefined, 60_000);
