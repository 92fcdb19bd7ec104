import t from 'tap';
import { validateAppend } from './appendValidation.js';
import { chainEvents } from './chainEvents.js';
import { ChainVerifier } from './chainVerifier.js';
import { defaultLimits, type RecordedEvent } from '../eventStore.js';
import { NO_STREAM } from '../expectedRevision.js';

const stream = 'committee-t1-c1';
const recorded = (count: number): RecordedEvent[] => {
  const append = validateAppend(
    stream,
    Array.from({ length: count }, (_, i) => ({
      type: 'A.v1',
      data: new Uint8Array([i]),
      metadata: new Uint8Array(),
    })),
    NO_STREAM,
    { commandId: 'c' },
    defaultLimits,
  );
  return chainEvents(append, null).map((e, i) => ({ ...e, stream, globalPosition: BigInt(i + 1) }));
};

t.test('accepts a chain built by chainEvents', async (t) => {
  const verifier = new ChainVerifier();
  t.same(
    recorded(4).map((e) => verifier.check(e)),
    [null, null, null, null],
  );
  t.equal(verifier.eventsChecked, 4);
});

t.test('names a missing revision as a gap', async (t) => {
  const verifier = new ChainVerifier();
  const [a, , c] = recorded(3) as [RecordedEvent, RecordedEvent, RecordedEvent];
  t.equal(verifier.check(a), null);
  t.match(verifier.check(c), { revision: 2n, reason: 'revision_gap' });
});

t.test("names an event whose previous hash is not its predecessor's hash", async (t) => {
  const verifier = new ChainVerifier();
  const [a, b] = recorded(2) as [RecordedEvent, RecordedEvent];
  t.equal(verifier.check(a), null);
  t.match(verifier.check({ ...b, prevHash: new Uint8Array(64) }), {
    revision: 1n,
    reason: 'prev_hash_mismatch',
  });
});

t.test('names an event whose bytes no longer match its hash', async (t) => {
  const verifier = new ChainVerifier();
  const [a] = recorded(1) as [RecordedEvent];
  t.match(verifier.check({ ...a, type: 'B.v1' }), {
    stream,
    revision: 0n,
    globalPosition: 1n,
    reason: 'hash_mismatch',
  });
});
