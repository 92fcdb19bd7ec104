// `ratsfach confirm` end to end: a founding staff member co-signs, confirms a member's first
// device after comparing its fingerprint, and the key follows; the attacker's neighbours are
// refused by the service with typed errors.
import t from 'tap';
import { submitRecord } from '@ratsfach/api-contract';
import { cryptoReady, fingerprint } from '@ratsfach/crypto';
import { ApiProblemError } from '../src/http/apiClient.js';
import { nextLink, toCommandJson } from '../src/records/toCommandJson.js';
import { confirmDeviceCommand } from '../src/records/userRecords.js';
import { cli } from './support/cliHarness.js';
import { keysWorld, passphraseOf } from './support/keysWorld.js';

await cryptoReady();

interface Confirmed {
  results: { kind: string; userId: string; deviceId: string | null; outcome: string }[];
  keys: { committeeId: string; action: string; holders: { userId: string; deviceId: string }[] }[];
}
const short = (r: Confirmed['results'][number]) =>
  `${r.kind}:${r.userId}${r.deviceId === null ? '' : `/${r.deviceId}`}:${r.outcome}`;

t.test('a founding staff member co-signs and confirms; the key follows', async (t) => {
  const k = await keysWorld(t);
  const alice = await k.person('alice', 'a1');
  const bob = await k.person('bob', 'b1');
  const carol = await k.person('carol', 'c1');
  await k.createCommittee('council');
  await k.addMember(alice, 'council', 'staff', null);
  await k.addMember(bob, 'council', 'reader', null);
  await k.addMember(carol, 'council', 'reader', null);
  await k.heartbeat();
  const aliceProfile = await k.profile(alice);
  const bobProfile = await k.profile(bob);
  const asAlice = { env: { RATSFACH_PASSPHRASE: passphraseOf(alice) } };

  // Nothing known yet without naming the committee (the manifest shows it once co-signed).
  const none = await cli(['--profile', aliceProfile, 'confirm'], asAlice);
  t.equal(none.exitCode, 0, none.stderr);
  t.match(none.stdout, /ratsfach confirm --committee <id>/);

  // Without a terminal and without --yes nothing is signed: the founding addition waits.
  const listed = await cli(
    ['--profile', aliceProfile, 'confirm', '--committee', 'council'],
    asAlice,
  );
  t.equal(listed.exitCode, 3, listed.stdout + listed.stderr);
  t.match(listed.stdout, /waiting {5}alice as staff in council/);

  // Co-signing at the prompt: alice accepts her founding addition and bob's, refuses carol's.
  const prompted = await cli(
    ['--profile', aliceProfile, '--json', 'confirm', '--committee', 'council'],
    { ...asAlice, answers: ['y', 'yes', 'n', ''] },
  );
  t.equal(prompted.exitCode, 0, prompted.stdout + prompted.stderr);
  t.same(prompted.json<Confirmed>().results.map(short), [
    'membership:alice:cosigned',
    'membership:bob:cosigned',
    'membership:carol:skipped',
    'device:bob/b1:skipped',
  ]);
  t.match(prompted.json<Confirmed>().keys, [
    { committeeId: 'council', action: 'started', holders: [{ userId: 'alice', deviceId: 'a1' }] },
  ]);

  // A wrong fingerprint confirms nothing; the right one, typed in groups, confirms and wraps.
  const bobFp = fingerprint(bob.keys.signing.publicKey);
  const wrong = await cli(
    ['--profile', aliceProfile, '--json', 'confirm', 'bob', '--fingerprint', 'ab'.repeat(8)],
    asAlice,
  );
  t.equal(wrong.exitCode, 1);
  t.match(wrong.json(), {
    results: [{ outcome: 'mismatch', error: { code: 'RATSFACH_KEYS_FINGERPRINT_MISMATCH' } }],
  });
  t.same(await k.epochsOf(bob, 'council'), []);
  const grouped = (bobFp.slice(0, 16).match(/.{4}/g) ?? []).join(' ').toUpperCase();
  // Bert reads his key's fingerprint on his own device, the way confirm shows it.
  const status = await cli(['--profile', bobProfile, 'status'], {
    env: { RATSFACH_PASSPHRASE: passphraseOf(bob) },
  });
  t.match(status.stdout, `key      ${grouped.toLowerCase()}`);
  const right = await cli(
    ['--profile', aliceProfile, 'confirm', 'bob', '--fingerprint', grouped],
    asAlice,
  );
  t.equal(right.exitCode, 0, right.stdout + right.stderr);
  t.match(right.stdout, /confirmed {3}bob\/b1 for council/);
  t.match(right.stdout, /council: staff, epoch 0, key wrapped now for bob\/b1/);
  t.same(await k.epochsOf(bob, 'council'), [0]);

  // Bad input: a fingerprint that is no hex is a usage error before anything is read.
  const bad = await cli(['--profile', aliceProfile, 'confirm', '--fingerprint', 'xyz'], asAlice);
  t.equal(bad.exitCode, 1);
  t.match(bad.stderr, /RATSFACH_CLI_USAGE/);

  // A reader's device lists nothing to confirm: it is no staff device.
  const asBob = { env: { RATSFACH_PASSPHRASE: passphraseOf(bob) } };
  const fromReader = await cli(['--profile', bobProfile, '--json', 'confirm', '--yes'], asBob);
  t.equal(fromReader.exitCode, 0, fromReader.stdout);
  t.same(fromReader.json<Confirmed>().results, []);

  // The attacker's neighbours, straight at the service with records the client never makes.
  const bobApi = await k.login(bob);
  const carolFp = fingerprint(carol.keys.signing.publicKey);
  const aliceApi = await k.login(alice);
  const refused = async (body: unknown, why: string, api = bobApi) => {
    const error = await api
      .call(submitRecord, { params: { tenantId: 't1' }, body: body as never })
      .then(
        () => null,
        (e: unknown) => e,
      );
    t.type(error, ApiProblemError, why);
    t.ok((error as ApiProblemError).status >= 400 && (error as ApiProblemError).status < 500, why);
    t.match((error as ApiProblemError).code, /^RATSFACH_DOMAIN_/, why);
    return error as ApiProblemError;
  };
  // A reader confirms another member's first device, naming the committee.
  const byReader = await refused(
    confirmDeviceCommand({
      tenantId: 't1',
      userId: 'carol',
      deviceId: 'c1',
      fingerprint: carolFp,
      tenantPosition: await k.tenantLength(),
      committeeId: 'council',
      signerUserId: 'bob',
      signerDeviceId: 'b1',
      signer: bob.keys.signing,
      link: nextLink(await k.w.head('user-t1-carol')),
    }),
    "a reader cannot confirm another member's device",
  );
  t.comment(`reader: ${byReader.code}`);
  // Alice's confirmation of bob's device, replayed into carol's chain.
  const aliceConfirmation = (await k.w.chain('user-t1-bob')).at(-1) as Uint8Array;
  await refused(
    toCommandJson('ConfirmDevice', {
      tenantId: 't1',
      userId: 'carol',
      deviceId: 'b1',
      signerUserId: 'alice',
      signerDeviceId: 'a1',
      committeeId: 'council',
      record: aliceConfirmation,
    }),
    "a confirmation cannot be replayed into another person's chain",
    aliceApi,
  );
  t.same(await k.epochsOf(carol, 'council'), [], 'carol got nothing');
  // A staff member of another committee confirms carol's first device for this one.
  const dave = await k.person('dave', 'd1');
  await k.createCommittee('bau');
  await k.addMember(dave, 'bau', 'staff', dave);
  const daveApi = await k.login(dave);
  const fromOther = await daveApi
    .call(submitRecord, {
      params: { tenantId: 't1' },
      body: confirmDeviceCommand({
        tenantId: 't1',
        userId: 'bob',
        deviceId: 'b1',
        fingerprint: bobFp,
        tenantPosition: await k.tenantLength(),
        committeeId: 'council',
        signerUserId: 'dave',
        signerDeviceId: 'd1',
        signer: dave.keys.signing,
        link: nextLink(await k.w.head('user-t1-bob')),
      }),
    })
    .then(
      () => null,
      (e: unknown) => e,
    );
  t.type(fromOther, ApiProblemError, 'staff of another committee cannot confirm for this one');
  t.match((fromOther as ApiProblemError).code, /^RATSFACH_DOMAIN_/);
});
