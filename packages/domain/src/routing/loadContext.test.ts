import { canonicalStringify, type CanonicalValue } from '@ratsfach/kernel';
import t from 'tap';
import { foldStream, loadContext } from './loadContext.js';
import { Scenario } from '../testing/index.js';
import type { DomainCommand } from './deciders.js';
import type { DomainContext } from '../streams/domainContext.js';

const show = ({ verifier: _verifier, ...rest }: DomainContext) =>
  canonicalStringify(rest as unknown as CanonicalValue);

t.test('loads the same context the decision needs as the in-memory scenario', async (t) => {
  const s = new Scenario().withDocument();
  const loaded: string[] = [];
  const loadState = async (stream: string) => {
    loaded.push(stream);
    return foldStream(stream, s.events(stream));
  };
  const commands: DomainCommand[] = [
    s.createUser('zed'),
    s.changeMembership('council', 'add', 'carol', 'reader'),
    s.wrapEpochKeys('council', 1, [{ userId: 'bob', deviceId: 'b1' }], 'alice', 'a1'),
    s.createDocument('doc2', 'council', 'alice', 'a1'),
    s.commitVersion('doc1', 'alice', 'a1'),
    s.recordDelivery(),
    s.commitVersion('missing', 'alice', 'a1'),
  ];
  for (const command of commands) {
    const context = await loadContext(command, s.verifier, loadState);
    t.equal(show(context), show(s.context(command)), `${command.type} gets its context`);
    t.equal(context.verifier, s.verifier, 'the verifier is passed on');
  }
  t.ok(
    loaded.includes('document-t1-doc1') && loaded.includes('committee-t1-council'),
    "a version loads its document's committee",
  );
});

t.test('a command that needs no other stream loads nothing', async (t) => {
  const s = new Scenario();
  let loads = 0;
  const context = await loadContext(s.createTenant(), s.verifier, async () => {
    loads += 1;
    return undefined;
  });
  t.equal(loads, 0);
  t.same(Object.keys(context), ['verifier']);
});

t.test('folds a stream with the decider of its kind', async (t) => {
  const s = new Scenario().standard();
  t.same(foldStream('user-t1-nobody', []), { status: 'absent' });
  const committee = foldStream('committee-t1-council', s.events('committee-t1-council')) as {
    epoch: number;
  };
  t.equal(committee.epoch, 0);
});

t.test("a content write loads the users who hold the committee's epoch key", async (t) => {
  const s = new Scenario().withDocument();
  const context = await loadContext(
    s.commitVersion('doc1', 'alice', 'a1'),
    s.verifier,
    async (stream) => foldStream(stream, s.events(stream)),
  );
  t.same(
    Object.keys(context.users ?? {}).sort(),
    ['alice', 'bob'],
    'the signer and every key holder',
  );
});

t.test(
  'a key record loads the staff, whose devices confirm other users’ first devices',
  async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    const command = s.wrapEpochKeys(
      'council',
      0,
      [{ userId: 'bob', deviceId: 'b1' }],
      'alice',
      'a1',
    );
    const context = await loadContext(command, s.verifier, async (stream) =>
      foldStream(stream, s.events(stream)),
    );
    t.same(
      Object.keys(context.users ?? {}).sort(),
      ['alice', 'bob', 'carol'],
      'the signer, the recipient and every co-signed staff member',
    );
    t.equal(show(context), show(s.context(command)), 'as the in-memory scenario loads it');
  },
);

t.test(
  "a document record loads the staff, whose devices confirm the signer's device",
  async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    for (const command of [
      s.deleteDocument('doc1', 'alice', 'a1'),
      s.createDocument('doc2', 'council', 'alice', 'a1'),
    ]) {
      const context = await loadContext(command, s.verifier, async (stream) =>
        foldStream(stream, s.events(stream)),
      );
      t.ok(
        ['alice', 'carol'].every((u) => Object.hasOwn(context.users ?? {}, u)),
        `${command.type}: the signer and every co-signed staff member`,
      );
      t.equal(show(context), show(s.context(command)), 'as the in-memory scenario loads it');
    }
  },
);
