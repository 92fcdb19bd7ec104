import t from 'tap';
import { World, day } from './support/world.js';
import { openEpochKeys, requireEpochKey } from '../src/committee/epochKeys.js';
import { CryptoErrorCode, KeyListError } from '../src/index.js';

t.test('every co-signed member device opens the epoch key the staff device started', async (t) => {
  const { world, epoch0 } = await World.scene();
  const state = world.state();
  t.equal(state.currentEpoch, 0);
  t.same(state.keyHolders(), ['alice', 'bob']);
  t.same(openEpochKeys(state, world.devices.a1!).get(0), epoch0);
  t.same(openEpochKeys(state, world.devices.b1!).get(0), epoch0);
  t.notOk(state.needsNewEpoch());
});

t.test('a new device gets the current key wrapped, and through it the whole history', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.now += day;
  world.heartbeat();
  const epoch1 = world.startEpoch('a1', 'rotation', epoch0);
  world.enrol('bob', 'b2');
  world.heartbeat();
  t.ok(world.wrapForNew('a1', epoch1));
  t.notOk(world.wrapForNew('a1', epoch1), 'nothing left to wrap');
  const keys = openEpochKeys(world.state(), world.devices.b2!);
  t.same(keys.get(1), epoch1);
  t.same(keys.get(0), epoch0);
});

t.test('a removed member cannot open the epoch started after the removal', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.removeMember('bob');
  t.ok(world.state().needsNewEpoch());
  world.heartbeat();
  world.startEpoch('a1', 'removal', epoch0);
  const state = world.state();
  const bobKeys = openEpochKeys(state, world.devices.b1!);
  t.same(bobKeys.get(0), epoch0, 'bob keeps what he had');
  const err = t.throws(() => requireEpochKey(bobKeys, 1), KeyListError) as KeyListError;
  t.equal(err.code, CryptoErrorCode.noWrappedKey);
  t.ok(openEpochKeys(state, world.devices.a1!).get(1));
});
