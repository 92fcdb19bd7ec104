// Change-to-push latency on the embedded stores: from the moment a staff device sends a commit
// until a member device's event stream has the notice for it (issue 9, target p99 < 50 ms on
// loopback). The projector runs in this process; the notifier learns of its progress by polling
// the read model's checkpoint (as `npm run up` does until main feeds it the projector's status).
//   scripts/run-ts.sh services/api/bench/pushLatency.bench.ts [--commits=200]
import { commitVersion } from '@ratsfach/api-contract';
import { councilWorld } from '../test/helpers/documentWorld.js';

const commits = Number(/--commits=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 200);
const teardowns: Array<() => unknown> = [];
const { w, alice, bob, epochKey, doc } = await councilWorld({
  teardown: (fn) => teardowns.push(fn),
});
await w.createDocumentAs(alice, 'council', 'doc1');

// Bob's stream: every notice with the time it arrived.
const arrivals: Array<{ position: bigint; at: number }> = [];
const response = await fetch(`${w.baseUrl}/v1/tenants/t1/events`, {
  headers: { authorization: `Bearer ${bob.token}` },
});
void (async () => {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const id = /^id: (\d+)$/m.exec(buffer.slice(0, cut))?.[1];
      buffer = buffer.slice(cut + 2);
      if (id !== undefined) arrivals.push({ position: BigInt(id), at: performance.now() });
    }
  }
})().catch(() => undefined);

const latencies: number[] = [];
const afterReply: number[] = [];
for (let version = 1; version <= commits; version++) {
  const prepared = await w.prepareVersion(
    alice,
    'council',
    'doc1',
    version,
    version === 1 ? null : version - 1,
    0,
    epochKey,
    new Uint8Array(1024),
  );
  const sent = performance.now();
  const reply = await alice.api.call(commitVersion, { params: doc, body: prepared.body });
  const replied = performance.now();
  const position = BigInt(reply.position);
  for (;;) {
    const arrival = arrivals.find((a) => a.position >= position);
    if (arrival) {
      latencies.push(arrival.at - sent);
      afterReply.push(arrival.at - replied);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${at(1).toFixed(1)} ms`;
};
console.log(
  `change-to-push latency, embedded, ${commits} commits (limit: p99 < 50 ms)\n` +
    `  commit sent -> notice: ${quantiles(latencies)}\n` +
    `  commit answered -> notice: ${quantiles(afterReply)}`,
);
for (const fn of teardowns.reverse()) await fn();
process.exit(0);
