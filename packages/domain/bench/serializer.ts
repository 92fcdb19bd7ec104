// Measures the canonical event serialiser: encodeEvent and decodeEvent of a VersionCommitted
// event (with its signed record of about 1 KiB), and a fold of decoded events.
//   scripts/run-ts.sh packages/domain/bench/serializer.ts
import {
  base64urlDecode,
  base64urlEncode,
  canonicalDecode,
  canonicalStringify,
  decodeEvent,
  encodeEvent,
  foldStream,
} from '../src/index.js';
import type { DomainEvent } from '../src/index.js';
import { Scenario } from '../src/testing/index.js';

const s = new Scenario().withDocument();
for (let i = 0; i < 50; i++) s.exec(s.commitVersion('doc1', 'alice', 'a1'));
const events = s.events('document-t1-doc1');
const version = events.find((e) => e.type === 'VersionCommitted') as DomainEvent;
const record = version.type === 'VersionCommitted' ? version.data.record : new Uint8Array(0);
const big = {
  ...version,
  data: { ...version.data, record: new Uint8Array(1024).fill(7) },
} as DomainEvent;
const encoded = encodeEvent(big);

const rate = (name: string, n: number, run: () => void) => {
  for (let i = 0; i < Math.min(n, 2000); i++) run();
  // CPU time, not wall time: the benchmark machine is shared, and CPU time is what a run costs.
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) run();
  const used = process.cpuUsage(start);
  const seconds = (used.user + used.system) / 1e6;
  console.log(`${name}: ${Math.round(n / seconds).toLocaleString('en')} /s of CPU time`);
};

console.log(
  `VersionCommitted with a 1 KiB record: ${encoded.data.length} bytes of data (scenario record ${record.length} bytes)`,
);
rate('encodeEvent', 50_000, () => encodeEvent(big));
rate('decodeEvent', 50_000, () => decodeEvent(encoded));
const stored = events.map(encodeEvent);
rate(
  `decode + fold of a ${stored.length}-event document stream (events)`,
  2_000 * stored.length > 0 ? 2_000 : 1,
  () => {
    foldStream('document-t1-doc1', stored.map(decodeEvent));
  },
);

const kib = new Uint8Array(1024).fill(9);
const kibText = base64urlEncode(kib);
rate('base64urlEncode 1 KiB', 50_000, () => base64urlEncode(kib));
rate('base64urlDecode 1 KiB', 50_000, () => base64urlDecode(kibText));
rate('JSON.parse of the event data', 50_000, () =>
  JSON.parse(new TextDecoder().decode(encoded.data)),
);
rate('canonicalDecode of the event data', 50_000, () => canonicalDecode(encoded.data));
rate('canonicalStringify of the event data', 50_000, () => canonicalStringify(big.data as never));
