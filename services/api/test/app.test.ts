import t from 'tap';
import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '@ratsfach/domain';
import { ApiErrorCode, problemMediaType } from '@ratsfach/api-contract';
import { ApiError } from '../src/apiError.js';
import { buildTestApp } from './helpers/buildTestApp.js';

t.test('health reports ok when every component answers', async (t) => {
  const app = await buildTestApp(
    t,
    { checks: [{ name: 'db', check: async () => {} }] },
    { version: '1.2.3' },
  );
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { status: 'ok', version: '1.2.3', components: { db: { status: 'ok' } } });
});

t.test('health is 503 and names the failing component by code only', async (t) => {
  const app = await buildTestApp(t, {
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
  });
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(res.json().components.blobs, { status: 'failing', code: ApiErrorCode.internal });
  t.same(res.json().components.events, {
    status: 'failing',
    code: 'RATSFACH_EVENT_STORE_UNAVAILABLE',
  });
  t.same(res.json().components.db, { status: 'ok' });
  t.notMatch(res.body, /disk gone|\/var\/lib|locked/, 'messages and paths stay in the log');
});

t.test(
  'answers each typed error as an RFC 9457 problem with its status, code and hint',
  async (t) => {
    const cases = [
      [new ValidationError('RATSFACH_X_BAD', 'bad', { hint: 'fix it' }), 400],
      [new ForbiddenError('RATSFACH_X_FORBIDDEN', 'no'), 403],
      [new NotFoundError('RATSFACH_X_MISSING', 'gone'), 404],
      [
        new ConflictError('RATSFACH_X_CONFLICT', 'raced', {
          details: { current: { head: 'h2', revision: 4 } },
        }),
        409,
      ],
      [new IntegrityError('RATSFACH_X_TAMPERED', 'tampered'), 422],
      [new UnavailableError('RATSFACH_X_DOWN', 'down'), 503],
      [new ApiError(ApiErrorCode.unauthenticated, 'no token'), 401],
      [
        new ApiError(ApiErrorCode.rateLimited, 'slow down', { headers: { 'retry-after': '7' } }),
        429,
      ],
    ] as const;
    const app = await buildTestApp(t);
    cases.forEach(([error], i) =>
      app.get(`/throw/${i}`, async () => {
        throw error;
      }),
    );
    for (const [i, [error, status]] of cases.entries()) {
      const res = await app.inject({ method: 'GET', url: `/throw/${i}` });
      t.equal(res.statusCode, status, error.code);
      t.equal(res.headers['content-type'], `${problemMediaType}; charset=utf-8`);
      const body = res.json();
      t.equal(body.code, error.code);
      t.equal(body.status, status);
      t.equal(body.type, `urn:ratsfach:problem:${error.code}`);
      t.equal(body.detail, error.message);
      t.match(body.instance, /^urn:ratsfach:request:[0-9a-f-]{36}$/);
      t.type(body.title, 'string');
    }
    const withHint = await app.inject({ method: 'GET', url: '/throw/0' });
    t.equal(withHint.json().hint, 'fix it');
    const conflict = await app.inject({ method: 'GET', url: '/throw/3' });
    t.same(
      conflict.json().current,
      { head: 'h2', revision: 4 },
      'a conflict names the current head',
    );
    const limited = await app.inject({ method: 'GET', url: '/throw/7' });
    t.equal(limited.headers['retry-after'], '7');
    const down = await app.inject({ method: 'GET', url: '/throw/5' });
    t.equal(down.headers['retry-after'], '1', 'an unavailable store says when to retry');
  },
);

t.test('masks unexpected errors as 500 without leaking the message', async (t) => {
  const app = await buildTestApp(t);
  app.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  const res = await app.inject({ method: 'GET', url: '/boom' });
  t.equal(res.statusCode, 500);
  t.equal(res.json().code, ApiErrorCode.internal);
  t.match(res.json().hint, res.json().instance.replace('urn:ratsfach:request:', ''));
  t.notMatch(res.body, /secret internal detail/);
});

t.test('unknown routes get a problem 404', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
  t.equal(res.statusCode, 404);
  t.equal(res.headers['content-type'], `${problemMediaType}; charset=utf-8`);
  t.equal(res.json().code, ApiErrorCode.routeNotFound);
  t.equal(res.json().detail, 'no route GET /nope');
});

t.test('bad request bodies get typed 4xx problems, never a 500', async (t) => {
  const app = await buildTestApp(t, {}, { bodyLimit: 64 });
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
  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload });
  const ok = await post('{"name":"a"}');
  t.equal(ok.statusCode, 200);
  for (const [body, pointer] of [
    ['{"name":1}', '/body/name'],
    ['{"name":"a","extra":true}', '/body'],
    ['{}', '/body'],
  ] as const) {
    const invalid = await post(body);
    t.equal(invalid.statusCode, 400, `${body} is refused, not coerced or stripped`);
    t.equal(invalid.json().code, ApiErrorCode.requestInvalid);
    t.match(invalid.json().hint, /openapi/);
    t.equal(invalid.json().violations[0].pointer, pointer);
  }
  const malformed = await post('{"name":');
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().code, ApiErrorCode.bodyMalformed);
  const oversized = await post(JSON.stringify({ name: 'x'.repeat(100) }));
  t.equal(oversized.statusCode, 413);
  t.equal(oversized.json().code, ApiErrorCode.bodyTooLarge);
  const wrongType = await post('name=a', 'application/x-www-form-urlencoded');
  t.equal(wrongType.statusCode, 415);
  t.equal(wrongType.json().code, ApiErrorCode.mediaTypeUnsupported);
});

t.test('a client-sent request id is not trusted', async (t) => {
  const app = await buildTestApp(t);
  const res = await app.inject({
    method: 'GET',
    url: '/nope',
    headers: { 'request-id': 'forged\nline' },
  });
  t.notMatch(res.json().instance, /forged/);
});
