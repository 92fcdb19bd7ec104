// Live push over real HTTP: a member's device is told its feeds moved when a staff device
// commits, then finds the change in the delta; others are not told; resume with Last-Event-ID;
// the per-device stream limit; shutdown ends every stream with a closing event.
import t from 'tap';
import { manifestDelta } from '@ratsfach/api-contract';
import { councilWorld, documentWorld, type WorldDevice } from './helpers/documentWorld.js';

interface PushEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** Opens the event stream and collects its events as they arrive. */
async function openStream(baseUrl: string, device: WorldDevice, lastEventId?: string) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/tenants/${device.tenantId}/events`, {
    headers: {
      authorization: `Bearer ${device.token}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
    signal: controller.signal,
  });
  const events: PushEvent[] = [];
  const waiters: Array<() => void> = [];
  let ended = false;
  let buffer = '';
  const pump = (async () => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => !line.startsWith(':') && line.includes(': '))
              .map((line) => [
                line.slice(0, line.indexOf(': ')),
                line.slice(line.indexOf(': ') + 2),
              ]),
          ) as Record<string, string>;
          if (fields.event !== undefined) {
            events.push({ id: fields.id ?? '', event: fields.event, data: fields.data ?? '' });
            for (const wake of waiters.splice(0)) wake();
          }
        }
      }
    } catch {
      // Aborted by the test.
    }
    ended = true;
    for (const wake of waiters.splice(0)) wake();
  })();
  const next = async (predicate: (e: PushEvent) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(predicate);
      if (found) return found;
      if (ended || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return {
    response,
    events,
    next,
    ended: () => ended,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}

t.test('a member is told its feeds moved, and finds the change in the delta', async (t) => {
  const { w, alice, bob, epochKey } = await councilWorld(t);
  const dave = await w.person('t1', 'dave', 'd1');
  await w.createCommittee('t1', 'finance');
  await w.addMember(dave, 'finance', 'staff');
  await w.settled(); // dave's own membership must not be news on his stream

  const bobStream = await openStream(w.baseUrl, bob);
  const daveStream = await openStream(w.baseUrl, dave);
  t.equal(bobStream.response.status, 200);
  t.equal(bobStream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.equal(bobStream.response.headers.get('x-accel-buffering'), 'no');
  const ready = await bobStream.next((e) => e.event === 'ready');
  t.ok(ready, 'a new stream says ready');
  await daveStream.next((e) => e.event === 'ready');

  await w.createDocumentAs(alice, 'council', 'doc1');
  const { committed } = await w.commitPlaintext(
    alice,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    new Uint8Array(5),
  );
  const told = await bobStream.next(
    (e) => e.event === 'feeds' && BigInt(e.id) >= BigInt(committed.position),
  );
  t.ok(told, 'the member hears that its feeds moved');
  t.same(JSON.parse(told!.data), { position: told!.id }, 'the data names the position');
  const delta = await bob.api.call(manifestDelta, { params: { tenantId: 't1' } });
  t.ok(
    delta.entries.some((e) => e.type === 'VersionCommitted' && e.documentId === 'doc1'),
    'and the delta has the version',
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.notOk(
    daveStream.events.some((e) => e.event === 'feeds'),
    'a user of another committee is not told',
  );
  await daveStream.close();

  // Resume: a stream that was away while something moved hears at once.
  await bobStream.close();
  await w.commitPlaintext(alice, 'council', 'doc1', 2, 1, 0, epochKey, new Uint8Array(6));
  await w.settled();
  const resumed = await openStream(w.baseUrl, bob, told!.id);
  const caughtUp = await resumed.next((e) => e.event === 'feeds');
  t.ok(caughtUp && BigInt(caughtUp.id) > BigInt(told!.id), 'a resumed stream is told at once');
  t.notOk(
    resumed.events.some((e) => e.event === 'ready'),
    'with a notice, not a fresh start',
  );
  const current = await openStream(w.baseUrl, bob, caughtUp!.id);
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.same(current.events, [], 'a stream that missed nothing hears nothing');

  // Per-device limit: four streams are open for b1 at most.
  const third = await openStream(w.baseUrl, bob);
  const fourth = await openStream(w.baseUrl, bob);
  const fifth = await fetch(`${w.baseUrl}/v1/tenants/t1/events`, {
    headers: { authorization: `Bearer ${bob.token}` },
  });
  t.equal(fifth.status, 429, 'one stream too many is refused');
  t.equal(((await fifth.json()) as { code: string }).code, 'RATSFACH_API_RATE_LIMITED');
  await third.close();
  await fourth.close();

  // Shutdown: the open stream gets `closing` and ends; nothing waits for it.
  await w.app.close();
  const closing = await resumed.next((e) => e.event === 'closing');
  t.ok(closing, 'shutdown says closing');
  await resumed.next(() => false, 2000);
  t.ok(resumed.ended(), 'and ends the stream');
  await resumed.close();
  await current.close();
});

t.test('a token of another tenant gets no stream', async (t) => {
  const w = await documentWorld(t, ['t1', 't2']);
  const mallory = await w.person('t2', 'mallory', 'm1');
  const response = await fetch(`${w.baseUrl}/v1/tenants/t1/events`, {
    headers: { authorization: `Bearer ${mallory.token}` },
  });
  t.equal(response.status, 401);
  const bad = await fetch(`${w.baseUrl}/v1/tenants/t2/events`, {
    headers: { authorization: `Bearer ${mallory.token}`, 'last-event-id': 'nope' },
  });
  t.equal(bad.status, 400, 'a malformed Last-Event-ID is refused');
});
