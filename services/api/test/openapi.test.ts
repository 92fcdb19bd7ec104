import t from 'tap';
import { openApiPath, problemMediaType } from '@ratsfach/api-contract';
import { buildTestApp } from './helpers/buildTestApp.js';

t.test('serves an OpenAPI 3.1 document generated from the route schemas', async (t) => {
  const app = await buildTestApp(t, {}, { version: '9.8.7' });
  const res = await app.inject({ method: 'GET', url: openApiPath });
  t.equal(res.statusCode, 200);
  const document = res.json();
  t.equal(document.openapi, '3.1.0');
  t.equal(document.info.version, '9.8.7');
  const health = document.paths['/healthz'].get;
  t.equal(health.operationId, 'getHealth');
  t.ok(health.responses['200'], 'documents the success');
  t.ok(health.responses['4XX'] ?? health.responses['4xx'], 'documents the problem responses');
  t.notOk(document.paths[openApiPath], 'the document itself is hidden');
  t.notMatch(res.body, /~kind/, 'no TypeBox markers leak into the document');
});

t.test('every documented route declares its responses and a unique operation id', async (t) => {
  const app = await buildTestApp(t);
  const document = (await app.inject({ method: 'GET', url: openApiPath })).json() as {
    paths: Record<string, Record<string, { operationId?: string; responses?: object }>>;
  };
  const ids = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.operationId, `${method} ${path} has an operation id`);
      t.notOk(ids.has(operation.operationId!), `${operation.operationId} is unique`);
      ids.add(operation.operationId!);
      t.ok(operation.responses, `${method} ${path} documents its responses`);
    }
  }
  t.ok(ids.size > 0);
  t.equal(problemMediaType, 'application/problem+json');
});
