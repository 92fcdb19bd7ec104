import t from 'tap';
import { Right, Role, hasRight, membershipEffective, rolesMatrix } from './roles.js';

// Each test states one rule of the issue on its own; together they pin all 24 cells of the
// matrix, so a changed cell fails a named rule rather than a copy of the table.

t.test('a tenant admin reads nothing by that right', async (t) => {
  t.equal(hasRight(Role.tenantAdmin, Right.read), false);
  t.equal(hasRight(Role.tenantAdmin, Right.managePeopleAndDevices), true);
  t.equal(hasRight(Role.tenantAdmin, Right.signMembership), true);
});

t.test('only staff write, start epochs and wrap keys', async (t) => {
  for (const right of [Right.writeDocuments, Right.startEpochs, Right.wrapKeys]) {
    const holders = Object.values(Role).filter((role) => hasRight(role, right));
    t.same(holders, [Role.staff], `${right} is staff's alone`);
  }
});

t.test('staff, readers and deputies read', async (t) => {
  t.same(
    Object.values(Role).filter((role) => hasRight(role, Right.read)),
    [Role.staff, Role.reader, Role.deputy],
  );
});

t.test('no committee role manages people or signs membership', async (t) => {
  for (const role of [Role.staff, Role.reader, Role.deputy]) {
    t.equal(hasRight(role, Right.managePeopleAndDevices), false, `${role} does not manage`);
    t.equal(hasRight(role, Right.signMembership), false, `${role} does not sign membership`);
  }
});

t.test('a membership counts only once co-signed', async (t) => {
  t.equal(membershipEffective({ cosigned: false }), false);
  t.equal(membershipEffective({ cosigned: true }), true);
});

t.test('every role has every right as a column', async (t) => {
  for (const role of Object.values(Role)) {
    t.same(
      Object.keys(rolesMatrix[role]).sort(),
      Object.values(Right).sort(),
      `${role} has a full row`,
    );
  }
});
