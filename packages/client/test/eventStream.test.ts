// The event stream client against the real push route (real service, real crypto) and against
// raw HTTP servers that play a dead, silent, buffering or lying peer.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ApiErrorCode, fillPath, pushEvents } from '@ratsfach/api-contract';
import { councilWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { ApiProblemError } from '../src/http/apiClient.js';
import { EventStream, type EventStreamOptions, type StreamEvent } from '../src/http/eventStream.js';

const text = (s: string) => new TextEncoder().encode(s);
const until = async (what: () => boolean, ms = 10_000, state: () => unknown = () => '') => {
  for (let i = 0; i < ms / 10 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!what()) throw new Error(`timed out ${JSON.stringify(state())}`);
};

/**
 * A stream that records what it is told. It is closed in the test's teardown whatever happens:
 * a stream left open by a failed assertion reconnects for ever and the file never ends.
 */
const record = (
  t: { teardown(fn: () => unknown): void },
  options: Omit<EventStreamOptions, 'onEvent' | 'onLive' | 'onDown' | 'onRefused'>,
) => {
  const events: StreamEvent[] = [];
  const downs: { error: Error; retryInMs: number }[] = [];
  const refused: Error[] = [];
  let lives = 0;
  const stream = new EventStream({
    ...options,
    onEvent: (event) => events.push(event),
    onLive: () => (lives += 1),
    onDown: (error, retryInMs) => downs.push({ error, retryInMs }),
    onRefused: (error) => refused.push(error),
  });
  t.teardown(() => stream.close());
  const seen = () => ({
    lives,
    events: events.map((e) => e.type),
    downs: downs.map((d) => d.error.message),
    refused: refused.map((e) => e.message),
  });
  return { stream, events, downs, refused, lives: () => lives, seen };
};

/** A raw HTTP server the test scripts request by request. */
const rawServer = async (
  t: { teardown(fn: () => unknown): void },
  handle: (res: ServerResponse, headers: IncomingHttpHeaders, n: number) => void,
) => {
  let n = 0;
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    handle(res, req.headers, n++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, seen };
};

t.test('the push route: ready, feeds after a commit, resume with Last-Event-ID', async (t) => {
  const { w, alice, bob, epochKey } = await councilWorld(t);
  const url = `${w.baseUrl}${fillPath(pushEvents.url, { tenantId: 't1' })}`;
  const first = record(t, {
    url,
    token: async () => bob.token,
    refreshToken: async () => undefined,
    heartbeatMs: 15_000,
  });
  // More events may come at once (the projector still folding the world's set-up): the first
  // one counts.
  await until(() => first.events.length >= 1, 10_000, first.seen);
  t.equal(first.lives(), 1);
  t.equal(first.events[0]?.type, 'ready');
  const before = first.stream.lastEventId;
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('Haushalt'));
  await until(() => first.events.some((e) => e.type === 'feeds'), 10_000, first.seen);
  t.not(first.stream.lastEventId, before, 'the stream moved on');
  await first.stream.close();

  const resumed = record(t, {
    url,
    token: async () => bob.token,
    refreshToken: async () => undefined,
    heartbeatMs: 15_000,
    lastEventId: before,
  });
  await until(() => resumed.events.length >= 1, 10_000, resumed.seen);
  t.equal(resumed.events[0]?.type, 'feeds', 'what moved while away is told at once');
  await resumed.stream.close();
});

t.test('a 401 logs in again; a revoked device is refused and the stream stops', async (t) => {
  const { w, bob } = await councilWorld(t);
  const url = `${w.baseUrl}${fillPath(pushEvents.url, { tenantId: 't1' })}`;
  let token = 'A'.repeat(43);
  let refreshes = 0;
  const s = record(t, {
    url,
    token: async () => token,
    refreshToken: async () => {
      refreshes += 1;
      token = bob.token;
    },
    heartbeatMs: 15_000,
  });
  await until(() => s.lives() === 1);
  t.equal(refreshes, 1);
  t.same(s.downs, [], 'a refreshed token is no outage');
  await s.stream.close();

  await w.revokeDevice(bob);
  const refused = record(t, {
    url,
    token: async () => bob.token,
    refreshToken: async () => undefined,
    heartbeatMs: 15_000,
  });
  await until(() => refused.refused.length === 1);
  t.match(refused.refused[0], { status: 403, code: ApiErrorCode.deviceNotInGoodStanding });
  await refused.stream.done;
  t.equal(refused.lives(), 0);
});

t.test('a refresh that fails is an outage; a refresh refused with 403 stops', async (t) => {
  const server = await rawServer(t, (res) => {
    res.writeHead(401, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ code: ApiErrorCode.unauthenticated, detail: 'expired' }));
  });
  let calls = 0;
  const s = record(t, {
    url: server.url,
    token: async () => 'x',
    refreshToken: async () => {
      calls += 1;
      if (calls === 1) throw new Error('ECONNREFUSED');
      throw new ApiProblemError({
        type: 'about:blank',
        title: 'refused',
        status: 403,
        detail: 'revoked',
        instance: '',
        code: ApiErrorCode.deviceNotInGoodStanding,
      });
    },
    heartbeatMs: 1000,
    minDelayMs: 10,
    maxDelayMs: 20,
  });
  await until(() => s.refused.length === 1);
  t.match(s.downs[0]?.error.message, /ECONNREFUSED/);
  await s.stream.done;
});

t.test('close() while a refresh runs ends the stream at once, with no outage told', async (t) => {
  const server = await rawServer(t, (res) => {
    res.writeHead(401, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ code: ApiErrorCode.unauthenticated, detail: 'expired' }));
  });
  let refreshing = false;
  let fail: (error: Error) => void = () => undefined;
  const s = record(t, {
    url: server.url,
    token: async () => 'x',
    refreshToken: () =>
      new Promise<void>((_resolve, reject) => {
        refreshing = true;
        fail = reject;
      }),
    heartbeatMs: 15_000,
    // A failed refresh waits a backoff of 30 to 60 s: close() must not wait it out.
    minDelayMs: 60_000,
    maxDelayMs: 60_000,
  });
  await until(() => refreshing, 10_000, s.seen);
  const closed = s.stream.close();
  fail(new Error('ECONNREFUSED'));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still open after 2 s'), 2_000);
  });
  t.equal(await Promise.race([closed.then(() => 'closed'), late]), 'closed');
  clearTimeout(timer);
  t.same(s.downs, [], 'a closed stream tells of no outage');
});

t.test('a silent server (half-open, buffering proxy) is left after 2.5 heartbeats', async (t) => {
  const server = await rawServer(t, (res, _headers, n) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (n === 0) res.write('retry: 2000\n\nid: 41\nevent: ready\ndata: {"position":"41"}\n\n');
    // and then nothing, not even a heartbeat
  });
  const s = record(t, {
    url: server.url,
    token: async () => 'x',
    refreshToken: async () => undefined,
    heartbeatMs: 40,
    minDelayMs: 10,
    maxDelayMs: 20,
    random: () => 0.5,
  });
  await until(() => s.downs.length >= 2);
  t.match(s.downs[0]?.error.message, /no byte for 100 ms/);
  t.equal(s.lives(), 1, 'the buffered connections never went live');
  t.equal(server.seen[1]?.['last-event-id'], '41', 'the reconnect resumes after the last id');
  t.equal(server.seen[0]?.authorization, 'Bearer x');
  await s.stream.close();
});

t.test('a proxy page, a 503 with Retry-After and an ended stream all reconnect', async (t) => {
  const server = await rawServer(t, (res, _headers, n) => {
    if (n === 0) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy</html>');
    } else if (n === 1) {
      res.writeHead(503, { 'retry-after': '0.05', 'content-type': 'text/plain' });
      res.end('busy');
    } else if (n === 2) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('id: 7\nevent: closing\ndata: {"position":"7"}\n\n');
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hb\n\n');
    }
  });
  const s = record(t, {
    url: server.url,
    token: async () => 'x',
    refreshToken: async () => undefined,
    heartbeatMs: 15_000,
    minDelayMs: 10,
    maxDelayMs: 20,
    random: () => 0,
  });
  await until(() => s.lives() === 2);
  t.match(
    s.downs.map((d) => d.error.message),
    [/text\/html/, /busy/, /ended the event stream/],
  );
  t.ok(s.downs[1]!.retryInMs >= 50, 'Retry-After is honoured');
  t.ok(
    s.downs.every((d) => d.retryInMs >= 5),
    'never reconnects at once',
  );
  t.same(
    s.events.map((e) => e.type),
    ['closing'],
  );
  t.equal(server.seen[3]?.['last-event-id'], '7');
  await s.stream.close();
});

t.test('a dead server: reconnects back off with jitter up to the ceiling', async (t) => {
  const server = await rawServer(t, () => undefined);
  const dead = server.url.replace(/:\d+\//, ':1/');
  let r = 0;
  const s = record(t, {
    url: dead,
    token: async () => 'x',
    refreshToken: async () => undefined,
    heartbeatMs: 15_000,
    minDelayMs: 4,
    maxDelayMs: 32,
    random: () => [0.99, 0.99, 0.99, 0.99, 0.99, 0.0][r++ % 6]!,
  });
  await until(() => s.downs.length >= 6);
  const delays = s.downs.map((d) => d.retryInMs);
  t.ok(delays[0]! <= 4 && delays[3]! > delays[0]!, `grows: ${delays.join(', ')}`);
  t.ok(
    delays.every((d) => d <= 32 && d >= 2),
    'within floor and ceiling',
  );
  await s.stream.close();
});
