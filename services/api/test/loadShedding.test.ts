// Load shedding: while the event loop is saturated, requests get an immediate problem+json 503
// with Retry-After instead of queueing; the probes still answer; once the loop is free again,
// requests are served. Each sample judges the last interval only, and the start is not judged.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from './helpers/buildTestApp.js';

/** Keeps the event loop busy for `ms`, as a burst of synchronous work would. */
const block = (ms: number): void => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What under-pressure measured in its last sample. */
const measured = (app: FastifyInstance) =>
  (
    app as unknown as { memoryUsage(): { eventLoopDelay: number; eventLoopUtilized: number } }
  ).memoryUsage();

const projection = { checkpoint: '5', pending: 0, atLeast: false, restarts: 0 };

t.test('a saturated event loop sheds requests with 503 until it recovers', async (t) => {
  const app = await buildTestApp(
    t,
    { readiness: { maxLag: 10, projection: async () => projection } },
    {
      loadShedding: {
        maxEventLoopDelayMs: 200,
        maxEventLoopUtilization: 0,
        // Long enough that the request below lands before the next sample clears the state,
        // also on a busy machine (a 20 ms interval let a second sample in first).
        sampleIntervalMs: 500,
        retryAfterSeconds: 3,
      },
    },
  );
  await app.ready();
  // Wait until a sample of the quiet loop is in (the machine may be busy: allow a few tries).
  for (let i = 0; i < 100; i++) {
    if ((await app.inject({ url: '/v1/openapi.json' })).statusCode === 200) break;
    await pause(50);
  }
  t.equal((await app.inject({ url: '/v1/openapi.json' })).statusCode, 200, 'served when idle');

  block(1_500);
  // The sampler's timer, due during the block, runs before this shorter one: it measures the
  // delay, and the next sample is 500 ms away.
  await pause(5);
  const refused = await app.inject({ url: '/v1/openapi.json' });
  t.equal(refused.statusCode, 503, 'refused at once while overloaded');
  t.equal(refused.headers['retry-after'], '3');
  t.match(refused.headers['content-type'], /^application\/problem\+json/);
  t.match(refused.json(), {
    status: 503,
    code: 'RATSFACH_API_OVERLOADED',
    hint: 'retry after 3 seconds',
  });
  const alive = await app.inject({ url: '/healthz' });
  t.equal(alive.statusCode, 200, 'the liveness probe still answers');
  const ready = await app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 200, 'the readiness probe answers what the projection says');
  t.same(ready.json(), { status: 'ready', version: '1', projection });

  let served = 0;
  for (let i = 0; i < 100 && served !== 200; i++) {
    await pause(50);
    served = (await app.inject({ url: '/v1/openapi.json' })).statusCode;
  }
  t.equal(served, 200, 'served again once the loop is free');
});

t.test('utilisation alone sheds too; without options nothing is shed', async (t) => {
  const shedding = await buildTestApp(
    t,
    {},
    {
      loadShedding: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0.5, sampleIntervalMs: 50 },
    },
  );
  const plain = await buildTestApp(t);
  await shedding.ready();
  await plain.ready();
  // Busy for most of several samples.
  let refused = 0;
  for (let i = 0; i < 20 && refused === 0; i++) {
    block(200);
    await pause(5);
    if ((await shedding.inject({ url: '/v1/openapi.json' })).statusCode === 503) refused++;
  }
  t.equal(refused, 1, 'a busy loop is refused by utilisation');
  block(1_000);
  await pause(5);
  t.equal(
    (await plain.inject({ url: '/v1/openapi.json' })).statusCode,
    200,
    'an app without load shedding serves whatever the loop',
  );
});

t.test('a busy spell that is over is forgotten at the next sample', async (t) => {
  const app = await buildTestApp(
    t,
    {},
    {
      loadShedding: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0.5, sampleIntervalMs: 50 },
    },
  );
  await app.ready();
  await pause(150);
  block(1_000);
  await pause(10);
  t.equal((await app.inject({ url: '/v1/openapi.json' })).statusCode, 503, 'shed right after it');
  // Averaged since the start, the second of work would keep utilisation above half for a
  // while longer; judged per sample, a few quiet samples serve again.
  // Six samples of 50 ms: since the start it would still be above 1,000 / (1,150 + 300 ms).
  for (let i = 0; i < 6 && measured(app).eventLoopUtilized > 0.5; i++) await pause(50);
  const quiet = measured(app).eventLoopUtilized;
  t.ok(quiet <= 0.5, `the last sample saw a quiet loop (${quiet})`);
  t.equal((await app.inject({ url: '/v1/openapi.json' })).statusCode, 200, 'served again');
});

t.test('the start is not judged: nothing is shed until two samples after ready', async (t) => {
  const app = await buildTestApp(
    t,
    {},
    {
      loadShedding: {
        maxEventLoopDelayMs: 0,
        maxEventLoopUtilization: 0.5,
        sampleIntervalMs: 1000,
      },
    },
  );
  // A slow start: the loop is busy between registration and ready.
  block(1_500);
  await app.ready();
  await pause(20);
  t.ok(measured(app).eventLoopUtilized > 0.5, 'the sample spanning the start saw a busy loop');
  t.equal(
    (await app.inject({ url: '/v1/openapi.json' })).statusCode,
    200,
    'a request just after the start is served',
  );
  // After the grace, the same pressure sheds.
  await pause(2_100);
  block(1_500);
  await pause(20);
  t.ok(measured(app).eventLoopUtilized > 0.5, 'the sample after the busy spell saw it');
  t.equal((await app.inject({ url: '/v1/openapi.json' })).statusCode, 503, 'then it is judged');
});
