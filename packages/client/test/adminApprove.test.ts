import { join } from 'node:path';
import t from 'tap';
import { listEnrolments, submitEnrolment, type EnrolmentSubmission } from '@ratsfach/api-contract';
import {
  createEnrolmentRequest,
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  parseEnrolmentCode,
} from '@ratsfach/crypto';
import { base64urlEncode } from '@ratsfach/kernel';
import { ApiClient } from '../src/http/apiClient.js';
import { addPerson, approveEnrolments, invitePerson } from '../src/admin/adminActions.js';
import {
  openAdminSession,
  readChain,
  streams,
  type AdminSession,
} from '../src/admin/adminSession.js';
import { userDevicesOf } from '../src/admin/chainViews.js';
import { initTenant } from '../src/admin/initTenant.js';
import { loadInvites, saveInvite } from '../src/admin/inviteStore.js';
import { startApi } from './support/apiProcess.js';
import { tempDir } from './support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

/** The admin session with a service that rewrites its enrolment listing (a lying server). */
function listingRewrittenBy(
  session: AdminSession,
  rewrite: (submissions: EnrolmentSubmission[]) => EnrolmentSubmission[],
): AdminSession {
  const api = new Proxy(session.api, {
    get(target, property) {
      if (property === 'call') {
        return async (route: unknown, input: unknown) => {
          const reply = await target.call(route as never, input as never);
          return route === listEnrolments
            ? {
                submissions: rewrite((reply as { submissions: EnrolmentSubmission[] }).submissions),
              }
            : reply;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { ...session, api };
}

t.test('approve trusts the signed request, not the listing, and a code enrols once', async (t) => {
  const api = await startApi(t);
  const dir = await tempDir(t);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  await initTenant({
    serverUrl: api.url,
    tenantId: 'stadt',
    rootFile: join(dir, 'root.key'),
    rootPassphrase: 'root passphrase of the town',
    profileDir: join(dir, 'admin'),
    devicePassphrase: 'admin device passphrase',
    userId: 'admin',
    deviceId: 'amt_laptop',
    now,
  });
  const session = await openAdminSession(join(dir, 'admin'), 'admin device passphrase');
  await addPerson(session, { userId: 'mueller', displayName: 'Frau Müller' }, now);
  const invitation = await invitePerson(session, 'mueller', now);
  const tablet = generateDeviceKeys();
  const request = createEnrolmentRequest(
    parseEnrolmentCode(invitation.code.text),
    { tenantId: 'stadt', userId: 'mueller', deviceId: 'mueller_tablet' },
    tablet,
  );
  await new ApiClient({ baseUrl: api.url }).call(submitEnrolment, {
    params: { tenantId: 'stadt' },
    body: { codeId: invitation.codeId, request: base64urlEncode(request) },
  });
  const { submissions: listed } = await session.api.call(listEnrolments, {
    params: { tenantId: 'stadt' },
  });
  t.equal(listed.length, 1);
  const devicesOfMueller = async () =>
    [
      ...userDevicesOf(
        (await readChain(session.api, 'stadt', streams.user('stadt', 'mueller'))).records,
      ).values(),
    ].map((d) => d.deviceId);

  // The service names another device and fingerprint than the request it carries: the admin
  // would compare and name what the service made up. Refused, and the truth is shown.
  const relabelled = listingRewrittenBy(session, (subs) =>
    subs.map((s) => ({ ...s, deviceId: 'mueller_phone', fingerprint: 'ab'.repeat(32) })),
  );
  const [lie] = await approveEnrolments(relabelled, { only: ['mueller_phone'] }, now);
  t.match(lie, {
    outcome: 'refused',
    deviceId: 'mueller_tablet',
    fingerprint: fingerprint(tablet.signing.publicKey),
    detail: /lists mueller\/mueller_phone/,
  });
  t.same(await devicesOfMueller(), [], 'nothing certified on a lying listing');

  // The same submission listed twice: one device per code, even within one run.
  const twice = listingRewrittenBy(session, (subs) => [
    ...subs,
    ...subs.map((s) => ({ ...s, submissionId: `${s.submissionId}_again` })),
  ]);
  const results = await approveEnrolments(twice, {}, now);
  t.same(
    results.map((r) => r.outcome),
    ['certified', 'refused'],
  );
  t.match(results[1]?.detail, /enrolled a device already/);
  t.same(await devicesOfMueller(), ['mueller_tablet']);
  t.same(
    (await loadInvites(session.dir, session.keys.signing)).map((i) => i.codeId),
    [],
    'the used code is forgotten',
  );

  // A run that ended between the certificate and forgetting the code, and a service that still
  // lists the used submission: the user chain names the code, so it is refused and forgotten.
  await saveInvite(session.dir, session.keys.signing, {
    codeId: invitation.codeId,
    userId: 'mueller',
    secret: invitation.code.secret,
    createdAt: now.toISOString(),
    expiresAt: invitation.expiresAt,
  });
  const replayed = listingRewrittenBy(session, () => listed);
  const again = await approveEnrolments(replayed, {}, now);
  t.same(
    again.map((r) => r.outcome),
    ['refused'],
  );
  t.match(again[0]?.detail, /enrolled a device already/);
  t.same(await devicesOfMueller(), ['mueller_tablet'], 'never a second certificate');
  t.same((await loadInvites(session.dir, session.keys.signing)).length, 0);
});
