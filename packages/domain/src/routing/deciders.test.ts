import { StreamKind, ValidationError } from '@ratsfach/kernel';
import t from 'tap';
import {
  contextRequirements,
  deciders,
  routeCommand,
  streamKindOfCommand,
  streamOfCommand,
} from './deciders.js';
import { Scenario } from '../testing/index.js';

t.test('names the stream each command is decided on, with its tenant', async (t) => {
  const s = new Scenario().withDocument();
  t.equal(streamOfCommand(s.createTenant()), 'tenant-t1');
  t.equal(streamOfCommand(s.certifyDevice('alice', 'a9')), 'user-t1-alice');
  t.equal(
    streamOfCommand(
      s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'),
    ),
    'committee-t1-council',
  );
  t.equal(streamOfCommand(s.commitVersion('doc1', 'alice', 'a1')), 'document-t1-doc1');
  t.equal(
    streamOfCommand(s.recordDelivery({ deliveredAt: '2026-03-04T05:06:07Z' })),
    'delivery-t1-20260304',
  );
});

t.test('refuses to name a stream from ids of the wrong shape', async (t) => {
  const s = new Scenario();
  const command = s.createUser('alice');
  t.throws(() => streamOfCommand({ ...command, data: { ...command.data, userId: 'x-t2-y' } }), {
    constructor: ValidationError,
    code: 'RATSFACH_STREAM_NAME_INVALID',
  });
});

t.test('routes each command to the decider of its stream kind', async (t) => {
  const s = new Scenario().withDocument();
  const routed = routeCommand(s.moveDocument('doc1', 'alice', 'a1'));
  t.equal(routed.kind, StreamKind.document);
  t.equal(streamKindOfCommand('WrapEpochKeys'), StreamKind.committee);
  t.same(
    Object.keys(deciders).sort(),
    Object.values(StreamKind).sort(),
    'every stream kind has a decider',
  );
  for (const kind of Object.values(StreamKind)) {
    t.ok(
      typeof deciders[kind].decide === 'function' && typeof deciders[kind].evolve === 'function',
      `${kind} decider is complete`,
    );
  }
});

t.test('says which streams a decision needs', async (t) => {
  const s = new Scenario().withDocument();
  t.same(contextRequirements(s.createTenant()), {
    tenant: false,
    userIds: [],
    committee: null,
    keyHolders: false,
    staff: false,
    day: null,
  });
  t.same(contextRequirements(s.createUser('zed')), {
    tenant: true,
    userIds: [],
    committee: null,
    keyHolders: false,
    staff: false,
    day: null,
  });
  // A confirmation by the user's own device needs the tenant; a staff confirmation also the
  // signer's user stream and the committee it names.
  t.same(contextRequirements(s.confirmDevice('alice', 'a2', 'alice', 'a1')), {
    tenant: true,
    userIds: [],
    committee: null,
    keyHolders: false,
    staff: false,
    day: null,
  });
  t.same(contextRequirements(s.confirmDevice('bob', 'b1', 'alice', 'a1', 'council')), {
    tenant: true,
    userIds: ['alice'],
    committee: { committeeId: 'council' },
    keyHolders: false,
    staff: false,
    day: null,
  });
  t.same(contextRequirements(s.confirmDevice('bob', 'b1', 'alice', 'a1')).committee, null);
  t.same(contextRequirements(s.changeMembership('council', 'add', 'carol', 'reader')), {
    tenant: true,
    userIds: ['carol'],
    committee: null,
    keyHolders: false,
    staff: false,
    day: null,
  });
  t.same(
    contextRequirements(
      s.wrapEpochKeys(
        'council',
        1,
        [
          { userId: 'bob', deviceId: 'b1' },
          { userId: 'alice', deviceId: 'a1' },
        ],
        'alice',
        'a1',
      ),
    ).userIds,
    ['alice', 'bob'],
    'the signer and every recipient, once each',
  );
  t.equal(
    contextRequirements(s.startKeyEpoch('council', 1, [], 'alice', 'a1')).staff,
    true,
    'a key record loads the staff, whose devices confirm the recipients',
  );
  t.same(contextRequirements(s.createDocument('doc2', 'council', 'alice', 'a1')).committee, {
    committeeId: 'council',
  });
  t.equal(contextRequirements(s.commitVersion('doc1', 'alice', 'a1')).committee, 'ofDocument');
  t.equal(
    contextRequirements(s.commitVersion('doc1', 'alice', 'a1')).keyHolders,
    true,
    'a write loads the key holders',
  );
  t.equal(
    contextRequirements(s.deleteDocument('doc1', 'alice', 'a1')).keyHolders,
    false,
    'a deletion writes no content',
  );
  t.equal(contextRequirements(s.recordDelivery()).day, '20260110');
});
