import t from 'tap';
import { MockAgent } from 'undici';
import { readyPath } from '@ratsfach/api-contract';
import { ApiClient } from '../http/apiClient.js';
import { AdminErrorCode } from './adminErrorCode.js';
import { awaitProjection, settle, type AdminSession } from './adminSession.js';

const origin = 'http://ratsfach.test';

/** A service whose /readyz answers each call with the next of `replies` (the last repeats). */
function serviceAnswering(replies: ReadonlyArray<readonly [number, unknown]>) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(origin);
  let calls = 0;
  pool
    .intercept({ path: readyPath, method: 'GET' })
    .reply(() => {
      const [statusCode, data] = replies[Math.min(calls, replies.length - 1)]!;
      calls += 1;
      return { statusCode, data: JSON.stringify(data) };
    })
    .persist();
  return { api: new ApiClient({ baseUrl: origin, dispatcher: agent }), calls: () => calls };
}

const report = (pending: number, restarts = 0, checkpoint = '10') => ({
  checkpoint,
  pending,
  atLeast: false,
  restarts,
});
const ready = [200, { status: 'ready', version: '1', projection: report(0) }] as const;
const lagging = (pending: number, restarts = 0, checkpoint = '10') =>
  [
    503,
    { status: 'lagging', version: '1', projection: report(pending, restarts, checkpoint) },
  ] as const;

t.test('a projector that catches up ends the wait', async (t) => {
  const { api, calls } = serviceAnswering([lagging(3), lagging(1, 0, '12'), ready]);
  await awaitProjection(api, 10_000);
  t.equal(calls(), 3);
});

t.test('a projector the service reports failing ends the wait at once, saying so', async (t) => {
  const { api, calls } = serviceAnswering([
    [503, { status: 'failing', version: '1', projection: null, code: 'RATSFACH_STORE_DOWN' }],
  ]);
  const started = Date.now();
  const error = (await t.rejects(awaitProjection(api, 60_000))) as unknown as {
    code: string;
    message: string;
    hint: string;
  };
  t.equal(error.code, AdminErrorCode.projectionFailing);
  t.match(error.message, /accepted.*RATSFACH_STORE_DOWN/);
  t.match(error.hint, /operator/);
  t.equal(calls(), 1, 'no 60 s hang');
  t.ok(Date.now() - started < 5000);
});

t.test('a projector that keeps restarting without progress is failing, not lagging', async (t) => {
  const { api } = serviceAnswering([lagging(5, 1), lagging(5, 2), lagging(5, 3), lagging(5, 4)]);
  await t.rejects(awaitProjection(api, 60_000), { code: AdminErrorCode.projectionFailing });
});

t.test('a projector still behind at the deadline is lagging, with the count', async (t) => {
  const { api } = serviceAnswering([lagging(7)]);
  const error = (await t.rejects(awaitProjection(api, 200))) as unknown as {
    code: string;
    message: string;
  };
  t.equal(error.code, AdminErrorCode.projectionLagging);
  t.match(error.message, /7 events pending/);
});

t.test('a 503 that is no readiness report (a proxy page) is waited out', async (t) => {
  const { api } = serviceAnswering([[503, 'bad gateway'], ready]);
  await awaitProjection(api, 10_000);
  const { api: never } = serviceAnswering([[503, 'bad gateway']]);
  const error = (await t.rejects(awaitProjection(never, 100))) as unknown as { message: string };
  t.match(error, { code: AdminErrorCode.projectionLagging });
  t.notMatch(error.message, /pending/);
});

t.test('any other error answer is not mistaken for lag', async (t) => {
  const { api, calls } = serviceAnswering([
    [500, { type: 'about:blank', title: 'x', status: 500, detail: 'boom', code: 'RATSFACH_X' }],
  ]);
  await t.rejects(awaitProjection(api, 10_000), { code: 'RATSFACH_X' });
  t.equal(calls(), 1);
});

t.test('settle waits only when the session wrote, once', async (t) => {
  const { api, calls } = serviceAnswering([lagging(1), ready]);
  const session = { api, writes: { unprojected: 0 } } as unknown as AdminSession;
  await settle(session);
  t.equal(calls(), 0, 'nothing written: no request');
  session.writes.unprojected = 3;
  await settle(session);
  t.equal(calls(), 2);
  t.equal(session.writes.unprojected, 0);
  await settle(session);
  t.equal(calls(), 2, 'settled: no second wait');
});
