// Key upkeep end to end: `ratsfach keys` and `ratsfach sync` on a staff device against the real
// service (records route, manifest, documents), real crypto and stores.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady, CryptoErrorCode } from '@ratsfach/crypto';
import { keyUpkeep, type CommitteeKeys } from '../src/keys/keyUpkeep.js';
import { recordsChainSource } from '../src/http/recordsChainSource.js';
import type { ChainSource } from '../src/sync/syncOnce.js';
import { openSyncState } from '../src/sync/syncStateFile.js';
import { cli, tempDir } from './support/cliHarness.js';
import { keysWorld, passphraseOf } from './support/keysWorld.js';

await cryptoReady();
const text = (s: string) => new TextEncoder().encode(s);
const names = (devices: readonly { userId: string; deviceId: string }[]) =>
  devices.map((d) => `${d.userId}/${d.deviceId}`);
/** A device's own local state (its seen heads), closed when the test ends. */
const localState = async (t: Parameters<typeof tempDir>[0]) => {
  const state = openSyncState(await tempDir(t));
  t.teardown(() => state.close());
  return state;
};

t.test(
  'a staff device starts epoch 0, wraps for confirmed devices only, and re-keys after a removal',
  async (t) => {
    const k = await keysWorld(t);
    const alice = await k.person('alice', 'a1');
    const bob = await k.person('bob', 'b1');
    await k.createCommittee('council');
    await k.addMember(alice, 'council', 'staff', alice);
    await k.addMember(bob, 'council', 'reader', alice);
    await k.heartbeat();
    const aliceProfile = await k.profile(alice);
    const bobProfile = await k.profile(bob);
    const asAlice = { env: { RATSFACH_PASSPHRASE: passphraseOf(alice) } };
    const asBob = { env: { RATSFACH_PASSPHRASE: passphraseOf(bob) } };

    // Epoch 0 for the founding staff's device; bob's device waits: nobody confirmed it.
    const first = await cli(['--profile', aliceProfile, 'keys'], asAlice);
    t.equal(first.exitCode, 3, first.stdout + first.stderr);
    t.match(first.stdout, /council: staff, epoch 0, started now \(initial\) for alice\/a1/);
    t.match(first.stdout, /waits for confirmation: bob\/b1 {2}[0-9a-f]{4} [0-9a-f]{4}/);
    t.same(await k.epochsOf(bob, 'council'), [], 'no key was wrapped for the unconfirmed device');

    // Bob's device learns nothing it cannot verify: its sync says the key is missing.
    const bobKeys = await cli(['--profile', bobProfile, '--json', 'keys'], asBob);
    t.equal(bobKeys.exitCode, 0, bobKeys.stdout);
    t.match(bobKeys.json<{ committees: CommitteeKeys[] }>().committees, [
      { committeeId: 'council', role: 'reader', staff: false, epoch: 0, holdsKey: false },
    ]);

    // Alice confirms bob's first device; the next run wraps the current key for it.
    await k.confirmDirect(alice, bob, 'council');
    const second = await cli(['--profile', aliceProfile, '--json', 'keys', 'council'], asAlice);
    t.equal(second.exitCode, 0, second.stdout);
    const wrapped = second.json<{ committees: CommitteeKeys[] }>().committees[0];
    t.equal(wrapped?.action, 'wrapped');
    t.same(names(wrapped?.wrappedFor ?? []), ['bob/b1']);
    t.same(names(wrapped?.holders ?? []), ['alice/a1', 'bob/b1']);
    t.same(wrapped?.waiting, []);
    t.same(await k.epochsOf(bob, 'council'), [0]);
    const again = await cli(['--profile', aliceProfile, '--json', 'keys'], asAlice);
    t.equal(again.json<{ committees: CommitteeKeys[] }>().committees[0]?.action, 'none');

    // A staff document under epoch 0 reaches bob's folder through `ratsfach sync`.
    const epoch0 = await k.epochKey(alice, 'council');
    await k.w.createDocumentAs(alice, 'council', 'doc1', 0);
    await k.w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epoch0.key, text('Haushalt'));
    await k.w.settled();
    const bobFolder = mkdtempSync(join(tmpdir(), 'ratsfach-keys-'));
    const synced = await cli(['--profile', bobProfile, 'sync', bobFolder], asBob);
    t.equal(synced.exitCode, 0, synced.stdout + synced.stderr);
    t.equal(
      readFileSync(join(bobFolder, 'council', 'Protokolle', 'Protokoll 1.txt'), 'utf8'),
      'Haushalt',
    );

    // The admin removes bob; the staff device's next sync starts epoch 1 without him.
    await k.removeMember(bob, 'council', 'reader');
    await k.heartbeat();
    const aliceFolder = mkdtempSync(join(tmpdir(), 'ratsfach-keys-'));
    const staffSync = await cli(['--profile', aliceProfile, 'sync', aliceFolder], asAlice);
    t.equal(staffSync.exitCode, 0, staffSync.stdout + staffSync.stderr);
    t.match(staffSync.stderr, /council: staff, epoch 1, started now \(removal\) for alice\/a1/);
    const { committee } = await k.view('council');
    t.equal(committee.currentEpoch, 1);
    t.equal(committee.epoch(1)?.wrapped.size, 1, 'wrapped for alice/a1 only');
    t.same(await k.epochsOf(bob, 'council'), [0], "bob's device opens nothing after the removal");

    // A document committed under epoch 1 cannot be opened with anything bob's device holds.
    const epoch1 = await k.epochKey(alice, 'council');
    t.equal(epoch1.epoch, 1);
    await k.w.createDocumentAs(alice, 'council', 'doc2', 1);
    await k.w.commitPlaintext(alice, 'council', 'doc2', 1, null, 1, epoch1.key, text('geheim'));
    await k.w.settled();
    const later = await cli(['--profile', bobProfile, '--json', 'sync', bobFolder], asBob);
    t.notMatch(later.stdout, /geheim/);
    t.same(await k.epochsOf(bob, 'council'), [0]);
  },
);

t.test('two staff devices racing to start an epoch start it once', async (t) => {
  const k = await keysWorld(t);
  const alice = await k.person('alice', 'a1');
  const carol = await k.person('carol', 'c1');
  await k.createCommittee('council');
  await k.addMember(alice, 'council', 'staff', alice);
  await k.addMember(carol, 'council', 'staff', alice);
  await k.confirmDirect(alice, carol, 'council');
  await k.heartbeat();
  const device = (d: typeof alice) => ({
    tenantId: 't1',
    userId: d.userId,
    deviceId: d.deviceId,
    keys: d.keys,
    rootPin: k.rootPin,
  });
  // Carol's device read the chains before alice's start landed (a snapshot served first).
  const carolApi = await k.login(carol);
  const aliceApi = await k.login(alice);
  const live = recordsChainSource(carolApi, 't1');
  const snapshot = new Map<string, readonly Uint8Array[]>();
  for (const stream of ['tenant-t1', 'user-t1-alice', 'user-t1-carol', 'committee-t1-council']) {
    snapshot.set(stream, await live.chain(stream));
  }
  let served = 0;
  const racing = {
    chain: async (stream: string) => {
      if (served < snapshot.size && snapshot.has(stream)) {
        served += 1;
        return snapshot.get(stream) as readonly Uint8Array[];
      }
      return live.chain(stream);
    },
  };
  const options = { committees: ['council'], now: new Date(), projectionWaitMs: 5000 };
  const [aliceDid] = await keyUpkeep({
    ...options,
    api: aliceApi,
    chains: recordsChainSource(aliceApi, 't1'),
    device: device(alice),
    state: await localState(t),
  });
  t.equal(aliceDid?.action, 'started');
  t.same(names(aliceDid?.wrappedFor ?? []), ['alice/a1', 'carol/c1']);
  const [carolDid] = await keyUpkeep({
    ...options,
    api: carolApi,
    chains: racing,
    device: device(carol),
    state: await localState(t),
  });
  t.equal(served, snapshot.size, 'carol decided on the stale chains first');
  t.equal(carolDid?.error, null);
  t.equal(carolDid?.action, 'none', 'carol refolded and found epoch 0 started and wrapped for her');
  t.equal(carolDid?.epoch, 0);
  const { chain, committee } = await k.view('council');
  t.equal(committee.currentEpoch, 0);
  t.equal(
    chain.filter((bytes) => new TextDecoder().decode(bytes.subarray(2, 24)).includes('key-epoch'))
      .length,
    1,
    'one key-epoch record in the chain',
  );
});

t.test(
  'the key work refuses chains rolled back behind what it saw: a hidden removal or revocation',
  async (t) => {
    const k = await keysWorld(t);
    const alice = await k.person('alice', 'a1');
    const bob = await k.person('bob', 'b1');
    await k.createCommittee('council');
    await k.addMember(alice, 'council', 'staff', alice);
    await k.addMember(bob, 'council', 'reader', alice);
    await k.confirmDirect(alice, bob, 'council');
    await k.heartbeat();
    const api = await k.login(alice);
    const live = recordsChainSource(api, 't1');
    // What the server held before bob left and before his device was revoked.
    const before = new Map<string, readonly Uint8Array[]>();
    for (const stream of ['committee-t1-council', 'user-t1-bob']) {
      before.set(stream, await live.chain(stream));
    }
    const rolledBack = (stream: string): ChainSource => ({
      chain: async (s) => (s === stream ? (before.get(s) ?? []) : live.chain(s)),
    });
    const options = {
      api,
      device: {
        tenantId: 't1',
        userId: 'alice',
        deviceId: 'a1',
        keys: alice.keys,
        rootPin: k.rootPin,
      },
      state: await localState(t),
      committees: ['council'],
      now: new Date(),
      projectionWaitMs: 5000,
    };
    const [first] = await keyUpkeep({ ...options, chains: live });
    t.equal(first?.action, 'started');
    t.same(names(first?.wrappedFor ?? []), ['alice/a1', 'bob/b1']);

    // Bob leaves; alice's key work sees it and re-keys without him.
    await k.removeMember(bob, 'council', 'reader');
    await k.heartbeat();
    const [second] = await keyUpkeep({ ...options, chains: live });
    t.equal(second?.reason, 'removal');
    t.same(names(second?.wrappedFor ?? []), ['alice/a1']);

    // The server hides the removal again (and the epoch after it): the committee is refused.
    const [hidden] = await keyUpkeep({
      ...options,
      chains: rolledBack('committee-t1-council'),
      rotate: true,
    });
    t.match(hidden, { action: 'none', error: { code: CryptoErrorCode.rollback } });
    const { committee } = await k.view('council');
    t.equal(committee.currentEpoch, 1, 'nothing was written on the rolled-back chain');
    t.equal(committee.epoch(1)?.wrapped.size, 1);

    // Bob's device is revoked; alice's key work sees it. Hiding the revocation is refused too.
    await k.revoke(bob);
    await k.heartbeat();
    t.equal((await keyUpkeep({ ...options, chains: live }))[0]?.error, null);
    await t.rejects(keyUpkeep({ ...options, chains: rolledBack('user-t1-bob') }), {
      code: CryptoErrorCode.rollback,
    });
  },
);

t.test('key work refuses what it cannot do, with a code and a hint, and rotates', async (t) => {
  const k = await keysWorld(t);
  const alice = await k.person('alice', 'a1');
  const bob = await k.person('bob', 'b1');
  const carol = await k.person('carol', 'c1');
  await k.createCommittee('council');
  await k.addMember(alice, 'council', 'staff', alice);
  await k.addMember(bob, 'council', 'reader', alice);
  await k.addMember(carol, 'council', 'staff', alice);
  await k.confirmDirect(alice, bob, 'council');
  const aliceProfile = await k.profile(alice);
  const carolProfile = await k.profile(carol);
  const asAlice = { env: { RATSFACH_PASSPHRASE: passphraseOf(alice) } };
  const asCarol = { env: { RATSFACH_PASSPHRASE: passphraseOf(carol) } };

  // No heartbeat yet: nothing is wrapped, and the person learns why.
  const stale = await cli(['--profile', aliceProfile, '--json', 'keys'], asAlice);
  t.equal(stale.exitCode, 1);
  t.match(stale.json<{ committees: CommitteeKeys[] }>().committees[0]?.error, {
    code: 'RATSFACH_CRYPTO_STALE_COMMITTEE_STATE',
  });
  await k.heartbeat();
  const unknown = await cli(['--profile', aliceProfile, '--json', 'keys', 'nosuch'], asAlice);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.json<{ committees: CommitteeKeys[] }>().committees[0]?.error, {
    code: 'RATSFACH_KEYS_COMMITTEE_UNKNOWN',
  });

  const started = await cli(['--profile', aliceProfile, '--json', 'keys'], asAlice);
  t.equal(started.exitCode, 3, 'carol/c1 waits for confirmation');

  // Eight days later without a heartbeat (this device's clock): nothing is wrapped, the staff
  // sync goes on and says what the key work could not do.
  const later = () => new Date(Date.now() + 8 * 24 * 3600 * 1000);
  const old = await cli(['--profile', aliceProfile, 'keys', 'council', '--rotate'], {
    ...asAlice,
    now: later,
  });
  t.equal(old.exitCode, 1);
  t.match(old.stdout, /heartbeat is \d+ s old/);
  const folder = mkdtempSync(join(tmpdir(), 'ratsfach-keys-'));
  const synced = await cli(['--profile', aliceProfile, 'sync', folder], { ...asAlice, now: later });
  t.equal(synced.exitCode, 0, synced.stdout + synced.stderr);
  t.match(synced.stderr, /not done: .*\(RATSFACH_CRYPTO_STALE_COMMITTEE_STATE\)/);

  t.same(names(started.json<{ committees: CommitteeKeys[] }>().committees[0]?.waiting ?? []), [
    'carol/c1',
  ]);
  // Carol is staff but her device holds no key: it cannot wrap or rotate, and says why.
  const carolKeys = await cli(['--profile', carolProfile, '--json', 'keys', '--rotate'], asCarol);
  t.equal(carolKeys.exitCode, 1);
  t.match(carolKeys.json<{ committees: CommitteeKeys[] }>().committees[0], {
    staff: true,
    holdsKey: false,
    error: { code: 'RATSFACH_KEYS_NO_CURRENT_KEY' },
  });

  // --rotate starts a new epoch that seals the previous key: bob opens both.
  await k.confirmDirect(alice, carol, 'council');
  const rotated = await cli(['--profile', aliceProfile, '--json', 'keys', '--rotate'], asAlice);
  t.equal(rotated.exitCode, 0, rotated.stdout);
  t.match(rotated.json<{ committees: CommitteeKeys[] }>().committees[0], {
    action: 'started',
    reason: 'rotation',
    epoch: 1,
  });
  t.same(await k.epochsOf(bob, 'council'), [0, 1]);
  t.same(await k.epochsOf(carol, 'council'), [0, 1], 'a newly confirmed device reads the history');

  // A revoked device holding the key makes the next epoch due, without it.
  await k.revoke(bob);
  await k.heartbeat();
  const revoked = await cli(['--profile', carolProfile, '--json', 'keys'], asCarol);
  t.equal(revoked.exitCode, 0, revoked.stdout);
  const after = revoked.json<{ committees: CommitteeKeys[] }>().committees[0];
  t.match(after, { action: 'started', reason: 'revocation', epoch: 2 });
  t.same(names(after?.holders ?? []), ['alice/a1', 'carol/c1']);
  t.same(await k.epochsOf(bob, 'council'), [0, 1]);
});

t.test(
  "a member of two committees, confirmed by each one's staff, gets keys in both",
  async (t) => {
    const k = await keysWorld(t);
    const alice = await k.person('alice', 'a1');
    const carol = await k.person('carol', 'c1');
    const bob = await k.person('bob', 'b1');
    await k.createCommittee('council');
    await k.createCommittee('finance');
    await k.addMember(alice, 'council', 'staff', alice);
    await k.addMember(carol, 'finance', 'staff', carol);
    await k.addMember(bob, 'council', 'reader', alice);
    await k.addMember(bob, 'finance', 'reader', carol);
    // Bob's first device, confirmed by the staff of each committee: alice's device never reads
    // finance, so it knows carol only from the tenant's heartbeat (and carol alice likewise).
    await k.confirmDirect(alice, bob, 'council');
    await k.confirmDirect(carol, bob, 'finance');
    // Before any heartbeat names carol, alice's device cannot find her certificate: refused
    // with the trust view's code, nothing wrapped.
    const aliceApi = await k.login(alice);
    await t.rejects(
      keyUpkeep({
        api: aliceApi,
        chains: recordsChainSource(aliceApi, 't1'),
        device: {
          tenantId: 't1',
          userId: 'alice',
          deviceId: 'a1',
          keys: alice.keys,
          rootPin: k.rootPin,
        },
        state: await localState(t),
        committees: ['council'],
        now: new Date(),
      }),
      { code: CryptoErrorCode.untrustedKey },
    );
    t.same(await k.epochsOf(bob, 'council'), []);
    await k.heartbeat();
    for (const [staff, committeeId, holders] of [
      [alice, 'council', 'alice/a1, bob/b1'],
      [carol, 'finance', 'bob/b1, carol/c1'],
    ] as const) {
      // `ratsfach sync` on the staff device: its key work and its pass both fold bob's chain.
      const synced = await cli(['--profile', await k.profile(staff), 'sync', await tempDir(t)], {
        env: { RATSFACH_PASSPHRASE: passphraseOf(staff) },
      });
      t.equal(synced.exitCode, 0, synced.stdout + synced.stderr);
      t.match(
        synced.stderr,
        `${committeeId}: staff, epoch 0, started now (initial) for ${holders}`,
      );
      t.same(await k.epochsOf(bob, committeeId), [0], `bob reads ${committeeId}`);
    }
  },
);
