import { validateAppend } from '../src/shared/appendValidation.js';
import { chainEvents } from '../src/shared/chainEvents.js';
import { defaultLimits } from '../src/eventStore.js';
const enc = new TextEncoder();
const metadata = enc.encode('{"commandId":"bench","occurredAt":"2026-01-01T00:00:00.000Z"}');
const payload = (n: number) =>
  enc.encode(
    `{"documentId":"d${n}","version":${n},"size":123456,"recordHash":"${'A'.repeat(86)}"}`,
  );
const events = Array.from({ length: 100 }, (_, i) => ({
  type: 'VersionCommitted.v1',
  data: payload(i),
  metadata,
}));
const head = { revision: 5n, hash: new Uint8Array(64) };
for (let r = 0; r < 5; r++) {
  const t = performance.now();
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const a = validateAppend(
      'document-bench-abc',
      events,
      5n,
      { commandId: 'cmd' + i },
      defaultLimits,
    );
    chainEvents(a, head);
  }
  const ms = performance.now() - t;
  console.log(`per event ${((ms * 1000) / (N * 100)).toFixed(2)} µs`);
}
