import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { submitEnrolment } from '@ratsfach/api-contract';
import {
  createEnrolmentCode,
  createEnrolmentRequest,
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  parseEnrolmentCode,
  type DeviceKeys,
} from '@ratsfach/crypto';
import { base64urlEncode } from '@ratsfach/kernel';
import { ApiClient, ApiProblemError } from '../src/http/apiClient.js';
import { logInDevice } from '../src/http/deviceLogin.js';
import { cli, tempDir } from './support/cliHarness.js';
import { openProfileKeys } from '../src/cli/profile.js';
import { awaitProjection } from '../src/admin/adminSession.js';
import { startApi } from './support/apiProcess.js';

const rootPassphrase = 'root passphrase of the town hall';
const devicePassphrase = 'admin laptop passphrase';

t.before(async () => {
  await cryptoReady();
});

interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

t.test("a municipality's first day through the real service and the real command", async (t) => {
  const api = await startApi(t);
  const dir = await tempDir(t);
  const rootFile = join(dir, 'root.key');
  const adminDir = join(dir, 'admin');
  const env = { RATSFACH_ROOT_PASSPHRASE: rootPassphrase, RATSFACH_PASSPHRASE: devicePassphrase };
  const admin = (args: string[], extra: Record<string, string> = {}) =>
    cli(['--json', '--profile', adminDir, 'admin', ...args], { env: { ...env, ...extra } });

  // init: the root, the tenant, this device as its first admin device.
  const init = await admin([
    'init',
    '--server',
    api.url,
    '--tenant',
    'stadt',
    '--root',
    rootFile,
    '--device',
    'amt_laptop',
  ]);
  t.equal(init.exitCode, 0, init.stdout + init.stderr);
  const initJson = init.json<{ rootFingerprint: string; tenantLength: number }>();
  const shown = await cli(['--json', 'admin', 'root', 'fingerprint', '--root', rootFile]);
  t.equal(shown.json<{ fingerprint: string }>().fingerprint, initJson.rootFingerprint);
  const human = await cli(['admin', 'root', 'fingerprint', '--root', rootFile]);
  t.match(human.stdout, /root fingerprint [0-9a-f]{4} /);

  const again = await admin(
    ['init', '--server', api.url, '--tenant', 'stadt', '--root', join(dir, 'root2.key')],
    {},
  );
  t.equal(again.exitCode, 1, 'a second init into the same profile is refused');
  t.equal(again.json<ErrorJson>().error.code, 'RATSFACH_CLI_PROFILE_EXISTS');

  const wrongPass = await admin(['people', 'list'], { RATSFACH_PASSPHRASE: 'not the passphrase' });
  t.equal(wrongPass.exitCode, 1);
  t.equal(wrongPass.json<ErrorJson>().error.code, 'RATSFACH_CRYPTO_KEY_STORE_TAMPERED');

  // people
  const people = [
    'schmidt',
    'mueller',
    'weber',
    'wagner',
    'becker',
    'hoffmann',
    'koch',
    'richter',
    'klein',
    'wolf',
  ];
  for (const person of people) {
    const added = await admin([
      'people',
      'add',
      person,
      '--name',
      `Frau ${person}`,
      '--email',
      `${person}@stadt.example`,
    ]);
    t.equal(added.exitCode, 0, added.stdout);
  }
  const listed = await admin(['people', 'list']);
  t.same(
    listed.json<{ people: Array<{ userId: string }> }>().people.map((p) => p.userId),
    [...people].sort(),
  );

  // committees
  const none = await admin(['committees', 'list']);
  t.same(none.json(), { committees: [] }, 'a new tenant has no committees');
  const noneHuman = await cli(['--profile', adminDir, 'admin', 'committees', 'list'], { env });
  t.match(noneHuman.stdout, /no committees yet: ratsfach admin committees create/);
  const created = await admin(['committees', 'create', 'bau', '--staff', 'schmidt']);
  t.equal(created.exitCode, 0, created.stdout);
  for (const [person, role] of [
    ['mueller', 'reader'],
    ['weber', 'deputy'],
    ['wagner', 'reader'],
  ] as const) {
    const added = await admin(['committees', 'add', 'bau', person, '--role', role]);
    t.equal(added.exitCode, 0, added.stdout);
  }
  const role = await admin(['committees', 'role', 'bau', 'wagner', '--role', 'deputy']);
  t.equal(role.exitCode, 0, role.stdout);
  const removeLast = await admin(['committees', 'remove', 'bau', 'schmidt']);
  t.equal(removeLast.exitCode, 1, 'removing the last staff member is refused');
  t.equal(removeLast.json<ErrorJson>().error.code, 'RATSFACH_ADMIN_LAST_KEEPER');
  const demoteLast = await admin(['committees', 'role', 'bau', 'schmidt', '--role', 'reader']);
  t.equal(demoteLast.json<ErrorJson>().error.code, 'RATSFACH_ADMIN_LAST_KEEPER');
  const removed = await admin(['committees', 'remove', 'bau', 'wagner']);
  t.equal(removed.exitCode, 0, removed.stdout);
  const show = await admin(['committees', 'show', 'bau']);
  t.same(
    show
      .json<{ members: Array<{ userId: string; role: string }> }>()
      .members.map((m) => `${m.userId}:${m.role}`)
      .sort(),
    ['mueller:reader', 'schmidt:staff', 'weber:deputy'],
  );

  // invite and enrol: the device submits its keys under the code id, the admin checks the MAC.
  const enrol = async (code: string, userId: string, deviceId: string, keys: DeviceKeys) => {
    const parsed = parseEnrolmentCode(code);
    const request = createEnrolmentRequest(parsed, { tenantId: 'stadt', userId, deviceId }, keys);
    return new ApiClient({ baseUrl: api.url }).call(submitEnrolment, {
      params: { tenantId: 'stadt' },
      body: { codeId: base64urlEncode(parsed.codeId), request: base64urlEncode(request) },
    });
  };
  const invite = await admin(['invite', 'mueller']);
  t.equal(invite.exitCode, 0, invite.stdout);
  const code = invite.json<{ code: string; expiresAt: string }>().code;
  // mueller enrols with the real `ratsfach enrol` on their tablet; it waits for the admin.
  const muellerDir = join(dir, 'mueller');
  const enrolled = await cli(
    [
      '--json',
      '--profile',
      muellerDir,
      'enrol',
      api.url,
      code,
      '--tenant',
      'stadt',
      '--user',
      'mueller',
    ],
    { env: { RATSFACH_PASSPHRASE: 'mueller tablet passphrase' } },
  );
  t.equal(
    enrolled.exitCode,
    3,
    `waiting for the administrator: ${enrolled.stdout}${enrolled.stderr}`,
  );
  const tabletId = enrolled.json<{ deviceId: string }>().deviceId;
  const muellerTablet = await openProfileKeys(muellerDir, 'mueller tablet passphrase');

  const pending = await admin(['approve']);
  t.equal(pending.exitCode, 0, pending.stdout);
  t.same(
    pending
      .json<{ results: Array<{ deviceId: string; outcome: string; fingerprint: string }> }>()
      .results.map((r) => [r.deviceId, r.outcome, r.fingerprint]),
    [[tabletId, 'skipped', fingerprint(muellerTablet.signing.publicKey)]],
    'without names nothing is certified, the MAC is checked',
  );
  const approved = await admin(['approve', tabletId]);
  t.equal(approved.exitCode, 0, approved.stdout);
  t.equal(
    approved.json<{ results: Array<{ outcome: string }> }>().results[0]?.outcome,
    'certified',
  );
  await t.rejects(
    enrol(code, 'mueller', 'mueller_phone', generateDeviceKeys()),
    ApiProblemError,
    'a used code is refused',
  );
  // The same, the way a person would: `ratsfach enrol` with the used code on a second device,
  // and with a code for this tenant claimed for another. A clear error, and no profile is left.
  const enrolAgain = async (profile: string, tenant: string, codeText: string) =>
    cli(
      ['--json', '--profile', profile, 'enrol', api.url, codeText, '--tenant', tenant].concat([
        '--user',
        'mueller',
      ]),
      { env: { RATSFACH_PASSPHRASE: 'mueller phone passphrase' } },
    );
  const reusedCode = await enrolAgain(join(dir, 'mueller_phone'), 'stadt', code);
  t.equal(reusedCode.exitCode, 1, 'a used code: ratsfach enrol fails');
  t.match(reusedCode.json<ErrorJson>().error, {
    code: /^RATSFACH_API_ENROLMENT_CODE_(USED|INVALID)$/,
    hint: /code/,
  });
  await t.rejects(access(join(dir, 'mueller_phone')), { code: 'ENOENT' }, 'no profile left');
  const dorfCode = (await admin(['invite', 'mueller'])).json<{ code: string }>().code;
  const otherTenant = await enrolAgain(join(dir, 'mueller_dorf'), 'dorf', dorfCode);
  t.equal(otherTenant.exitCode, 1, 'a code claimed for another tenant: refused');
  t.match(otherTenant.json<ErrorJson>().error, { code: /^RATSFACH_/, hint: /./ });
  await t.rejects(access(join(dir, 'mueller_dorf')), { code: 'ENOENT' }, 'no profile left');
  // An expired code: issued (by the clock of the admin device) to lapse a few seconds from now.
  const lapsing = await cli(['--json', '--profile', adminDir, 'admin', 'invite', 'mueller'], {
    env,
    now: () => new Date(Date.now() - 7 * 86_400_000 + 10_000),
  });
  t.equal(lapsing.exitCode, 0, lapsing.stdout + lapsing.stderr);
  const lapsed = lapsing.json<{ code: string; expiresAt: string }>();
  while (Date.now() <= Date.parse(lapsed.expiresAt) + 1000) {
    await new Promise((done) => setTimeout(done, 500));
  }
  const expiredCode = await enrolAgain(join(dir, 'mueller_late'), 'stadt', lapsed.code);
  t.equal(expiredCode.exitCode, 1, 'an expired code: ratsfach enrol fails');
  t.match(expiredCode.json<ErrorJson>().error, {
    code: 'RATSFACH_API_ENROLMENT_CODE_INVALID',
    hint: /code/,
  });
  await t.rejects(access(join(dir, 'mueller_late')), { code: 'ENOENT' }, 'no profile left');

  // A tampered enrolment: the server (or anyone) swaps in keys of its own under weber's code id.
  const weberInvite = (await admin(['invite', 'weber'])).json<{ code: string }>();
  const weberCode = parseEnrolmentCode(weberInvite.code);
  const forged = createEnrolmentRequest(
    { ...createEnrolmentCode(generateSigningKeyPair().publicKey), codeId: weberCode.codeId },
    { tenantId: 'stadt', userId: 'weber', deviceId: 'weber_laptop' },
    generateDeviceKeys(),
  );
  await new ApiClient({ baseUrl: api.url }).call(submitEnrolment, {
    params: { tenantId: 'stadt' },
    body: { codeId: base64urlEncode(weberCode.codeId), request: base64urlEncode(forged) },
  });
  const attack = await cli(['--profile', adminDir, 'admin', 'approve', '--all'], { env });
  t.equal(attack.exitCode, 1, 'an attack ends with an error');
  t.match(attack.stdout, /ATTACK .*weber\/weber_laptop.*NOT certified/);
  const afterAttack = await admin(['approve', '--all']);
  t.same(afterAttack.json<{ results: unknown[] }>().results, [], 'the burnt code was withdrawn');
  await t.rejects(
    new ApiClient({ baseUrl: api.url }).call(submitEnrolment, {
      params: { tenantId: 'stadt' },
      body: { codeId: base64urlEncode(weberCode.codeId), request: base64urlEncode(forged) },
    }),
    ApiProblemError,
    'nothing more is accepted under it',
  );
  const weberDevices = await admin(['devices', 'list', 'weber']);
  t.same(weberDevices.json<{ devices: unknown[] }>().devices, [], 'never certified');

  // heartbeat over every person and committee
  const beat = await admin(['heartbeat']);
  t.equal(beat.exitCode, 0, beat.stdout);
  t.match(beat.json(), { users: 10, committees: 1 });

  // devices: list, renew, revoke (a lost tablet is refused at once)
  const login = () =>
    logInDevice(new ApiClient({ baseUrl: api.url }), {
      tenantId: 'stadt',
      deviceId: tabletId,
      signing: muellerTablet.signing,
    });
  await login();
  const devices = await admin(['devices', 'list', 'mueller']);
  t.match(devices.json<{ devices: Array<{ deviceId: string; revoked: boolean }> }>().devices, [
    { deviceId: tabletId, revoked: false },
  ]);
  const renewed = await admin(['devices', 'renew', 'mueller', tabletId]);
  t.equal(renewed.exitCode, 0, renewed.stdout);
  const revoked = await admin([
    'devices',
    'revoke',
    'mueller',
    tabletId,
    '--reason',
    'lost on the train',
  ]);
  t.equal(revoked.exitCode, 0, revoked.stdout);
  // The service learns the revocation through its projector: refused once it caught up.
  const started = Date.now();
  await awaitProjection(new ApiClient({ baseUrl: api.url }), 5000);
  t.comment(`projection caught up ${Date.now() - started} ms after the revocation`);
  await t.rejects(login(), ApiProblemError, 'the revoked tablet cannot log in');
  const renewRevoked = await admin(['devices', 'renew', 'mueller', tabletId]);
  t.equal(renewRevoked.exitCode, 1, 'a revoked device is never renewed');

  // admin devices: a second one certified with the root file, then revoked; the last one stays.
  const secondDir = join(dir, 'admin2');
  const requestFile = join(dir, 'admin2.request');
  const request = await cli(
    [
      '--json',
      '--profile',
      secondDir,
      'admin',
      'devices',
      'request',
      '--server',
      api.url,
      '--tenant',
      'stadt',
      '--root-fingerprint',
      initJson.rootFingerprint,
      '--user',
      'admin',
      '--device',
      'amt_desktop',
      '--out',
      requestFile,
    ],
    { env: { RATSFACH_PASSPHRASE: 'second admin passphrase' } },
  );
  t.equal(request.exitCode, 0, request.stdout);
  const certified = await admin([
    'devices',
    'certify-admin',
    '--request',
    requestFile,
    '--root',
    rootFile,
  ]);
  t.equal(certified.exitCode, 0, certified.stdout);
  t.equal(
    certified.json<{ fingerprint: string }>().fingerprint,
    request.json<{ fingerprint: string }>().fingerprint,
  );
  const fromSecond = await cli(['--json', '--profile', secondDir, 'admin', 'devices', 'admins'], {
    env: { RATSFACH_PASSPHRASE: 'second admin passphrase' },
  });
  t.equal(fromSecond.exitCode, 0, 'the second admin device logs in and works');
  t.equal(fromSecond.json<{ devices: unknown[] }>().devices.length, 2);
  // The second admin device created nothing, yet it sees the tenant as the first does: the
  // people and committees come from the service's listing and the verified chains.
  const second = (args: string[]) =>
    cli(['--json', '--profile', secondDir, 'admin', ...args], {
      env: { RATSFACH_PASSPHRASE: 'second admin passphrase' },
    });
  for (const what of [
    ['people', 'list'],
    ['committees', 'list'],
  ]) {
    const mine = await admin(what);
    const theirs = await second(what);
    t.equal(theirs.exitCode, 0, theirs.stdout + theirs.stderr);
    t.same(theirs.json(), mine.json(), `${what.join(' ')}: the second admin device lists the same`);
  }
  t.match((await second(['committees', 'list'])).json(), {
    committees: [{ committeeId: 'bau', members: [{}, {}, {}] }],
  });
  const secondBeat = await second(['heartbeat']);
  t.match(
    secondBeat.json(),
    { users: 10, committees: 1 },
    `its heartbeat names every chain: ${secondBeat.stdout}${secondBeat.stderr}`,
  );
  // An old profile's registry (here a damaged one) is dropped, not read: the profile works.
  const legacy = join(adminDir, 'admin-registry.json');
  await writeFile(legacy, '{"users": 3}');
  const withLegacy = await admin(['people', 'list']);
  t.equal(withLegacy.exitCode, 0, withLegacy.stdout + withLegacy.stderr);
  t.equal(withLegacy.json<{ people: unknown[] }>().people.length, 10);
  await t.rejects(access(legacy), { code: 'ENOENT' }, 'the old registry is gone');
  const wrongRoot = await admin(['devices', 'revoke-admin', 'amt_desktop', '--root', rootFile], {
    RATSFACH_ROOT_PASSPHRASE: 'wrong',
  });
  t.equal(
    wrongRoot.json<ErrorJson>().error.code,
    'RATSFACH_ADMIN_ROOT_PASSPHRASE',
    'nothing is revoked without the root passphrase',
  );
  const revokedAdmin = await admin(['devices', 'revoke-admin', 'amt_desktop', '--root', rootFile]);
  t.equal(revokedAdmin.exitCode, 0, revokedAdmin.stdout);
  const only = await admin(['devices', 'revoke-admin', 'amt_laptop', '--root', rootFile]);
  t.equal(
    only.json<ErrorJson>().error.code,
    'RATSFACH_ADMIN_LAST_KEEPER',
    'the only admin device is never revoked',
  );
  const stillInForce = await admin(['devices', 'admins']);
  t.match(
    stillInForce
      .json<{ devices: Array<{ deviceId: string; revoked: boolean }> }>()
      .devices.find((d) => d.deviceId === 'amt_laptop'),
    { revoked: false },
    'and it stays in force: nothing half-applied',
  );
  // Another tenant's root file (a second tenant on the same service): refused before signing.
  const dorfRoot = join(dir, 'dorf-root.key');
  const dorf = await cli(
    ['--json', '--profile', join(dir, 'dorf-admin'), 'admin', 'init', '--server', api.url].concat([
      '--tenant',
      'dorf',
      '--root',
      dorfRoot,
    ]),
    { env },
  );
  t.equal(dorf.exitCode, 0, dorf.stdout + dorf.stderr);
  for (const args of [
    ['devices', 'revoke-admin', 'amt_laptop', '--root', dorfRoot],
    ['devices', 'certify-admin', '--request', requestFile, '--root', dorfRoot],
  ]) {
    const foreign = await admin(args);
    t.equal(foreign.exitCode, 1, `${args[1]} with another tenant's root`);
    t.match(foreign.json<ErrorJson>().error, {
      code: 'RATSFACH_ADMIN_ROOT_MISMATCH',
      hint: /./,
    });
  }
  t.same(
    (await admin(['devices', 'admins']))
      .json<{ devices: Array<{ deviceId: string; revoked: boolean }> }>()
      .devices.map((d) => [d.deviceId, d.revoked]),
    [
      ['amt_laptop', false],
      ['amt_desktop', true],
    ],
    "another tenant's root changed nothing",
  );

  // erase a directory entry
  const erased = await admin(['people', 'erase', 'wolf']);
  t.equal(erased.exitCode, 0);
  const after = await admin(['people', 'list']);
  t.match(
    after
      .json<{ people: Array<{ userId: string; displayName: string | null }> }>()
      .people.find((p) => p.userId === 'wolf'),
    { displayName: null },
  );
});
