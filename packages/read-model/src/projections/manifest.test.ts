import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';
import { ProjectionState } from './projectionState.js';
import { projectEvents } from './projection.js';
import { allProjections } from './index.js';

const manifestOf = (s: LoggedScenario) =>
  foldRows(s.logged)
    .rows(TableName.manifest)
    .map((r) => [r['userId'], r['committeeId'], r['role'], r['leftAtSeq']])
    .sort();

t.test('a co-signed member gets one manifest row; a pending one none', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
  t.same(manifestOf(s), [
    ['alice', 'council', 'staff', null],
    ['bob', 'council', 'reader', null],
  ]);
});

t.test(
  'leaving marks the row at the feed position of the removal; rejoining clears it',
  async (t) => {
    const s = new LoggedScenario().withDocument();
    s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
    const removal = foldRows(s.logged)
      .rows(TableName.committeeFeed)
      .find(
        (r) => r['type'] === 'MembershipChanged' && r['userId'] === 'bob' && Number(r['seq']) > 5,
      );
    t.equal(removal?.['seq'], 10);
    t.same(
      manifestOf(s).find((r) => r[0] === 'bob'),
      ['bob', 'council', 'reader', 10],
    );
    s.exec(s.changeMembership('council', 'add', 'bob', 'deputy'));
    t.same(
      manifestOf(s).find((r) => r[0] === 'bob'),
      ['bob', 'council', 'reader', 10],
      'not before co-signed',
    );
    s.exec(s.coSignMembership('council', 'bob', 'alice', 'a1'));
    t.same(
      manifestOf(s).find((r) => r[0] === 'bob'),
      ['bob', 'council', 'deputy', null],
    );
  },
);

t.test('a role change updates the row; a promotion to staff once co-signed', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
  t.same(manifestOf(s)[1], ['bob', 'council', 'reader', null]);
  s.exec(s.coSignMembership('council', 'bob', 'alice', 'a1'));
  t.same(manifestOf(s)[1], ['bob', 'council', 'staff', null]);
});

t.test('joining a committee with 2,000 documents writes one row, whatever the count', async (t) => {
  const s = new LoggedScenario().standard();
  for (let i = 0; i < 2000; i++) s.exec(s.createDocument(`d${i}`, 'council', 'alice', 'a1'));
  s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
  const state = new ProjectionState();
  projectEvents(allProjections, state, s.logged);
  s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
  const changes = projectEvents(allProjections, state, s.since(s.logged.length - 1));
  t.same(
    changes.map((c) => c.table).sort(),
    ['audit', 'committeeFeed', 'manifest', 'memberships', 'userFeed'],
    'one row per read model: the join costs no row per document',
  );
});
