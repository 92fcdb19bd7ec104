// Load shedding: while the event loop is saturated, requests get an immediate problem+json 503
// with Retry-After instead of queueing; the liveness probe still answers; once the loop is
// free again, requests are served.
import t from 'tap';
import { buildTestApp } from './helpers/buildTestApp.js';

/** Keeps the event loop busy for `ms`, as a burst of synchronous work would. */
const block = (ms: number): void => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a saturated event loop sheds requests with 503 until it recovers', async (t) => {
  const app = await buildTestApp(
    t,
    {},
    {
      loadShedding: {
        maxEventLoopDelayMs: 200,
        maxEventLoopUtilization: 0,
        sampleIntervalMs: 20,
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
  // Let the sampler run once after the block, so it measures the delay.
  await pause(30);
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
