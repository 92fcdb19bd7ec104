// The rule that keys are wrapped only for confirmed devices, end to end: real signed records
// through the service's command handler, event store and projector. Crypto never wraps for an
// unconfirmed device; these records are what a malicious or buggy staff client would send.
import t from 'tap';
import { DomainErrorCode } from '@ratsfach/domain';
import { documentWorld } from './helpers/documentWorld.js';

const notConfirmed = { code: DomainErrorCode.recipientNotConfirmed };

t.test('a new epoch for a device nobody confirmed is refused until staff confirm it', async (t) => {
  const w = await documentWorld(t, ['t1', 't2']);
  const alice = await w.person('t1', 'alice', 'a1');
  const bob = await w.person('t1', 'bob', 'b1');
  const carol = await w.person('t1', 'carol', 'cr1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(bob, 'council', 'reader', alice);
  await w.startEpoch(alice, 'council', 0, [alice, bob]);
  // carol's addition co-signed, her device certified by the admin alone: no key for it.
  await w.addMember(carol, 'council', 'reader', alice, false);
  await t.rejects(w.startEpoch(alice, 'council', 1, [alice, bob, carol]), notConfirmed);
  // A confirmation naming another committee does not count for this one.
  await w.createCommittee('t1', 'board');
  await w.addMember(alice, 'board', 'staff');
  await w.confirmFirstDevice(carol, 'board', alice);
  await t.rejects(w.startEpoch(alice, 'council', 1, [alice, bob, carol]), notConfirmed);
  // Another tenant's devices get nothing: one under a member's ids (the signed record wraps
  // for a key t1's bob/b1 does not have), one whose user t1 does not know.
  const bobElsewhere = await w.person('t2', 'bob', 'b1');
  await t.rejects(w.startEpoch(alice, 'council', 1, [alice, bob, bobElsewhere]), {
    code: DomainErrorCode.commandMalformed,
  });
  await t.rejects(w.startEpoch(alice, 'council', 1, [alice, bobElsewhere]), {
    code: DomainErrorCode.recordMismatch,
  });
  const dave = await w.person('t2', 'dave', 'd1');
  await t.rejects(w.startEpoch(alice, 'council', 1, [alice, dave]), {
    code: DomainErrorCode.recipientNotMember,
  });
  await w.confirmFirstDevice(carol, 'council', alice);
  const epochKey = await w.startEpoch(alice, 'council', 1, [alice, bob, carol]);
  t.equal(epochKey.length, 32, 'confirmed by staff for this committee, carol gets the key');
});
