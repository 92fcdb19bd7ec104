import { UnavailableError } from '@ratsfach/kernel';
import t from 'tap';
import { fileSystemError } from './syncErrors.js';

t.test('a file-system error names the cause and says what to do', async (t) => {
  const full = fileSystemError('A/x.txt', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  t.ok(full instanceof UnavailableError);
  t.match(full.message, /A\/x.txt: ENOSPC/);
  t.match(full.hint, /disk is full/);
  t.match(
    fileSystemError('p', Object.assign(new Error('x'), { code: 'EACCES' })).hint,
    /permissions/,
  );
  const odd = fileSystemError('p', 'weird');
  t.match(odd.message, /unknown \(weird\)/);
  t.match(odd.hint, /writable/);
});
