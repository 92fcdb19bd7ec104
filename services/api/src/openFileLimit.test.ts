import t from 'tap';
import { openFileLimit } from './openFileLimit.js';

const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax processes             63432                63432                processes\nMax open files            ${soft}                 ${hard}                files\n`;

t.test('reads the soft and hard open-file limits', async (t) => {
  t.same(openFileLimit(limits('1024', '524288')), { soft: 1024, hard: 524288 });
  t.same(openFileLimit(limits('20000', 'unlimited')), {
    soft: 20000,
    hard: Number.POSITIVE_INFINITY,
  });
});

t.test('says nothing rather than guess when the line is absent', async (t) => {
  t.same(openFileLimit('Max processes 1 1 processes\n'), { soft: null, hard: null });
});

t.test('reads this process on Linux', async (t) => {
  const own = openFileLimit();
  if (process.platform === 'linux') t.ok((own.soft ?? 0) > 0);
  else t.same(own, { soft: null, hard: null });
});
