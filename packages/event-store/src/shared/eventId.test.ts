import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import { eventIdFor, eventIdsFor } from './eventId.js';

const uuidV5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('derives a stable UUIDv5 from tenant, command id and index', async (t) => {
  const id = eventIdFor('t1', 'cmd-1', 0);
  t.match(id, uuidV5);
  t.equal(eventIdFor('t1', 'cmd-1', 0), id);
  t.not(eventIdFor('t1', 'cmd-1', 1), id);
  t.not(eventIdFor('t2', 'cmd-1', 0), id, 'another tenant never collides');
  t.not(eventIdFor('t1', 'cmd-2', 0), id);
  t.not(
    eventIdFor('t1c', 'md-1', 0),
    eventIdFor('t1', 'cmd-1', 0),
    'length prefixes keep fields apart',
  );
});

t.test('takes the tenant from the stream name and refuses a name of the wrong shape', async (t) => {
  t.same(eventIdsFor('document-t1-d1', 'c', 2), [
    eventIdFor('t1', 'c', 0),
    eventIdFor('t1', 'c', 1),
  ]);
  t.same(eventIdsFor('tenant-t1', 'c', 1), [eventIdFor('t1', 'c', 0)]);
  t.throws(() => eventIdsFor('document-T1-d1', 'c', 1), ValidationError);
});
