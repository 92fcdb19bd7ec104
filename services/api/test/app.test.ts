import t from 'tap';
import { Writable } from 'node:stream';
import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '@ratsfach/domain';
import { buildApp } from '../src/buildApp.js';
import { createLogger } from '../src/logger.js';

const silent = () => createLogger('silent');

t.test('health reports ok when every component answers', async (t) => {
  const app = await buildApp(
    { logger: silent(), checks: [{ name: 'db', check: async () => {} }] },
    { version: '1.2.3' },
  );
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { status: 'ok', version: '1.2.3', components: { db: { status: 'ok' } } });
});

t.test('health is 503 and names the failing component by code only', async (t) => {
  const app = await buildApp(
    {
      logger: silent(),
      checks: [
        { name: 'db', check: async () => {} },
        {
          name: 'events',
          check: async () => {
            throw new UnavailableError('RATSFACH_EVENT_STORE_UNAVAILABLE', 'database is locked');
          },
        },
        {
          name: 'blobs',
          check: async () => {
            throw new Error('disk gone at /var/lib/ratsfach/blobs');
          },
        },
      ],
    },
    { version: '1' },
  );
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(res.json().components.blobs, { status: 'failing', code: 'RATSFACH_INTERNAL' });
  t.same(res.json().components.events, {
    status: 'failing',
    code: 'RATSFACH_EVENT_STORE_UNAVAILABLE',
  });
  t.same(res.json().components.db, { status: 'ok' });
  t.notMatch(res.body, /disk gone|\/var\/lib|locked/, 'messages and paths stay in the log');
});

t.test('maps each typed error to its status code with code and hint', async (t) => {
  const cases = [
    [new ValidationError('RATSFACH_X_BAD', 'bad', { hint: 'fix it' }), 400],
    [new ForbiddenError('RATSFACH_X_FORBIDDEN', 'no'), 403],
    [new NotFoundError('RATSFACH_X_MISSING', 'gone'), 404],
    [new ConflictError('RATSFACH_X_CONFLICT', 'raced'), 409],
    [new IntegrityError('RATSFACH_X_TAMPERED', 'tampered'), 422],
    [new UnavailableError('RATSFACH_X_DOWN', 'down'), 503],
  ] as const;
  const app = await buildApp({ logger: silent(), checks: [] }, { version: '1' });
  t.teardown(() => app.close());
  cases.forEach(([error], i) =>
    app.get(`/throw/${i}`, async () => {
      throw error;
    }),
  );
  for (const [i, [error, status]] of cases.entries()) {
    const res = await app.inject({ method: 'GET', url: `/throw/${i}` });
    t.equal(res.statusCode, status, error.code);
    t.equal(res.json().error.code, error.code);
  }
  const withHint = await app.inject({ method: 'GET', url: '/throw/0' });
  t.equal(withHint.json().error.hint, 'fix it');
});

t.test('masks unexpected errors as 500 without leaking the message', async (t) => {
  const app = await buildApp({ logger: silent(), checks: [] }, { version: '1' });
  t.teardown(() => app.close());
  app.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  const res = await app.inject({ method: 'GET', url: '/boom' });
  t.equal(res.statusCode, 500);
  t.equal(res.json().error.code, 'RATSFACH_INTERNAL');
  t.notMatch(res.body, /secret internal detail/);
});

t.test('unknown routes get a typed 404', async (t) => {
  const app = await buildApp({ logger: silent(), checks: [] }, { version: '1' });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
  t.equal(res.statusCode, 404);
  t.equal(res.json().error.code, 'RATSFACH_ROUTE_NOT_FOUND');
});

t.test('the request log never contains an authorization header', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({ logger: createLogger('trace', sink), checks: [] }, { version: '1' });
  t.teardown(() => app.close());
  app.get('/echo', async (request) => {
    request.log.info({ headers: request.headers }, 'seen');
    return {};
  });
  await app.inject({
    method: 'GET',
    url: '/echo',
    headers: { authorization: 'Bearer very-secret-token' },
  });
  t.ok(lines.length > 0);
  t.notMatch(lines.join(''), /very-secret-token/);
  t.match(lines.join(''), /\[redacted\]/);
});

t.test('bad request bodies get typed 4xx errors, never a 500', async (t) => {
  const app = await buildApp({ logger: silent(), checks: [] }, { version: '1', bodyLimit: 64 });
  t.teardown(() => app.close());
  app.post(
    '/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
    async (request) => request.body,
  );
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
  const ok = await post('{"name":"a"}');
  t.equal(ok.statusCode, 200);
  for (const body of ['{"name":1}', '{"name":"a","extra":true}', '{}']) {
    const invalid = await post(body);
    t.equal(invalid.statusCode, 400, `${body} is refused, not coerced or stripped`);
    t.equal(invalid.json().error.code, 'RATSFACH_REQUEST_INVALID');
    t.match(invalid.json().error.hint, /schema/);
  }
  const malformed = await post('{"name":');
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().error.code, 'RATSFACH_HTTP_400');
  const oversized = await post(JSON.stringify({ name: 'x'.repeat(100) }));
  t.equal(oversized.statusCode, 413);
  t.equal(oversized.json().error.code, 'RATSFACH_HTTP_413');
});
