import t from 'tap';
import { DomainErrorCode } from './domainErrorCode.js';

t.test('every domain error code is stable-looking, prefixed and unique', async (t) => {
  const codes = Object.values(DomainErrorCode);
  for (const code of codes) t.match(code, /^RATSFACH_DOMAIN_[A-Z_]+$/, code);
  t.equal(new Set(codes).size, codes.length, 'no code is used for two refusals');
});
