import t from 'tap';
import { fillPath } from './paths.js';
import { ApiErrorCode, apiErrorStatus, isApiErrorCode } from './apiErrorCode.js';

t.test('fills placeholders URI-encoded and refuses a missing one', async (t) => {
  t.equal(
    fillPath('/v1/tenants/:tenantId/uploads/:sessionId', { tenantId: 't 1', sessionId: 'a/b' }),
    '/v1/tenants/t%201/uploads/a%2Fb',
  );
  t.throws(() => fillPath('/v1/tenants/:tenantId', {}), /no value for :tenantId/);
});

t.test('every API error code has a status and the API prefix', async (t) => {
  for (const code of Object.values(ApiErrorCode)) {
    t.match(code, /^RATSFACH_API_[A-Z_]+$/);
    t.ok(apiErrorStatus[code] >= 400 && apiErrorStatus[code] < 600, code);
    t.ok(isApiErrorCode(code));
  }
  t.notOk(isApiErrorCode('RATSFACH_DOMAIN_TENANT_UNKNOWN'));
  t.notOk(isApiErrorCode('toString'));
});
