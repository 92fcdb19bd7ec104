import t from 'tap';
import { watcherError } from '../../node/treeWatcher.js';
import { noticeLine } from './syncWatch.js';

t.test('a watcher out of inotify watches names the setting to raise', async (t) => {
  const line = noticeLine({
    kind: 'watcherFailed',
    error: watcherError(Object.assign(new Error('no space'), { code: 'ENOSPC' })),
  });
  t.match(line, /the folder cannot be watched \(ENOSPC\)/);
  t.match(line, /raise fs\.inotify\.max_user_watches \(sudo sysctl fs\.inotify\.max_user_watches=/);
  t.match(line, /periodic scan/);
});

t.test(
  'out of file descriptors it names the open-file limit; anything else the scan',
  async (t) => {
    const emfile = noticeLine({
      kind: 'watcherFailed',
      error: watcherError(Object.assign(new Error('too many'), { code: 'EMFILE' })),
    });
    t.match(emfile, /\(EMFILE\): too many open files: raise the open-file limit \(ulimit -n\)/);
    t.match(
      noticeLine({ kind: 'watcherFailed', error: new Error('the folder went away') }),
      'the folder went away: local changes are found by the periodic pass',
    );
  },
);
