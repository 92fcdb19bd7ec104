import { join } from 'node:path';
import t from 'tap';
import { submitEnrolment } from '@ratsfach/api-contract';
import {
  createEnrolmentRequest,
  cryptoReady,
  defaultStalenessSeconds,
  generateDeviceKeys,
  parseEnrolmentCode,
  pinnedRootLength,
  requireFresh,
  StaleCommitteeStateError,
  TrustView,
  fingerprintBytes,
} from '@ratsfach/crypto';
import { base64urlEncode } from '@ratsfach/kernel';
import { ApiClient } from '../src/http/apiClient.js';
import {
  addPerson,
  approveEnrolments,
  createCommittee,
  invitePerson,
  revokeDevice,
} from '../src/admin/adminActions.js';
import { agentRound, runAgent, type AgentLog } from '../src/admin/adminAgent.js';
import {
  openAdminSession,
  readChain,
  readTenantChain,
  streams,
  type AdminSession,
} from '../src/admin/adminSession.js';
import { userDevicesOf } from '../src/admin/chainViews.js';
import { initTenant } from '../src/admin/initTenant.js';
import { startApi } from './support/apiProcess.js';
import { tempDir } from './support/cliHarness.js';

const day = 24 * 3600;

t.before(async () => {
  await cryptoReady();
});

const recorder = () => {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const log: AgentLog = {
    info: (fields, message) => lines.push({ level: 'info', message, fields }),
    warn: (fields, message) => lines.push({ level: 'warn', message, fields }),
  };
  return { lines, log };
};

async function tenantWithDevices(
  t: { teardown(fn: () => unknown): void; same(a: unknown, b: unknown): void },
  start: Date,
) {
  const api = await startApi(t);
  const dir = await tempDir(t);
  await initTenant({
    serverUrl: api.url,
    tenantId: 'stadt',
    rootFile: join(dir, 'root.key'),
    rootPassphrase: 'root passphrase of the town',
    profileDir: join(dir, 'admin'),
    devicePassphrase: 'admin device passphrase',
    userId: 'admin',
    deviceId: 'amt_laptop',
    now: start,
  });
  const session = await openAdminSession(join(dir, 'admin'), 'admin device passphrase');
  for (const person of ['schmidt', 'mueller']) {
    await addPerson(session, { userId: person, displayName: person }, start);
  }
  await createCommittee(session, 'bau', ['schmidt'], start);
  for (const [person, device] of [
    ['schmidt', 'schmidt_laptop'],
    ['mueller', 'mueller_tablet'],
    ['mueller', 'mueller_phone'],
  ] as const) {
    const invitation = await invitePerson(session, person, start);
    const code = parseEnrolmentCode(invitation.code.text);
    const request = createEnrolmentRequest(
      code,
      { tenantId: 'stadt', userId: person, deviceId: device },
      generateDeviceKeys(),
    );
    await new ApiClient({ baseUrl: api.url }).call(submitEnrolment, {
      params: { tenantId: 'stadt' },
      body: { codeId: invitation.codeId, request: base64urlEncode(request) },
    });
  }
  const approved = await approveEnrolments(session, {}, start);
  t.same(
    approved.map((r) => r.outcome),
    ['certified', 'certified', 'certified'],
  );
  return { api, dir, session };
}

/** The trust view a member's device would build: pinned root, tenant and user chains. */
async function trustOf(session: AdminSession): Promise<TrustView> {
  const tenant = await readTenantChain(session);
  const userChains: Record<string, Uint8Array[]> = {};
  for (const userId of ['schmidt', 'mueller']) {
    userChains[userId] = (
      await readChain(session.api, 'stadt', streams.user('stadt', userId))
    ).records.map((r) => r.bytes);
  }
  return TrustView.build({
    rootPin: fingerprintBytes(tenant.records[0]!.signerKey).slice(0, pinnedRootLength),
    tenantChain: tenant.records.map((r) => r.bytes),
    userChains,
  });
}

t.test(
  'over 90 days the agent keeps certificates and committees fresh; stopped, they go stale',
  async (t) => {
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    const { session } = await tenantWithDevices(t, start);
    const { lines, log } = recorder();
    let clock = start.getTime();
    const now = () => new Date(clock);
    const controller = new AbortController();
    const everySeconds = 6 * 3600;
    const checks = { rounds: 0, staleSeen: 0, lapsedSeen: 0, revokedRenewed: 0 };
    let revokedAt: number | undefined;

    await runAgent({
      session: async () => session,
      now,
      log,
      signal: controller.signal,
      everySeconds,
      sleep: async (seconds) => {
        clock += seconds * 1000;
        const time = Math.floor(clock / 1000);
        checks.rounds += 1;
        // What a member device sees between rounds: a fresh heartbeat naming the committee head.
        const trust = await trustOf(session);
        try {
          requireFresh(trust, time);
        } catch {
          checks.staleSeen += 1;
        }
        const committee = await readChain(session.api, 'stadt', streams.committee('stadt', 'bau'));
        if (trust.latestHeartbeat?.committeeHeads.bau?.length !== committee.records.length)
          checks.staleSeen += 1;
        for (const userId of ['schmidt', 'mueller']) {
          const chain = await readChain(session.api, 'stadt', streams.user('stadt', userId));
          for (const device of userDevicesOf(chain.records).values()) {
            if (!device.revoked && device.notAfter <= time) checks.lapsedSeen += 1;
          }
          if (userId === 'mueller' && revokedAt !== undefined) {
            checks.revokedRenewed += chain.records.filter(
              (r) =>
                r.purpose === 'device-certificate' &&
                r.sequence > revokedAt! &&
                (r.body as { deviceId: string }).deviceId === 'mueller_phone',
            ).length;
          }
        }
        // On day 10 the phone is lost and revoked.
        if (revokedAt === undefined && clock - start.getTime() >= 10 * day * 1000) {
          await revokeDevice(session, 'mueller', 'mueller_phone', 'lost', now());
          revokedAt =
            (await readChain(session.api, 'stadt', streams.user('stadt', 'mueller'))).records
              .length - 1;
        }
        if (clock - start.getTime() >= 90 * day * 1000) controller.abort();
      },
    });
    t.ok(checks.rounds >= 90 * 4, `${checks.rounds} rounds over 90 days`);
    t.equal(checks.staleSeen, 0, 'no committee went stale while the agent ran');
    t.equal(checks.lapsedSeen, 0, 'no certificate of a device in good standing lapsed');
    t.equal(checks.revokedRenewed, 0, 'the revoked phone was never renewed');
    const renewals = lines.filter((l) => l.fields.action === 'renewed');
    const renewalsOf = (deviceId: string) =>
      renewals.filter((l) => l.fields.deviceId === deviceId).length;
    t.ok(
      renewalsOf('schmidt_laptop') >= 4,
      `schmidt_laptop renewed ${renewalsOf('schmidt_laptop')} times`,
    );
    t.ok(
      renewalsOf('mueller_tablet') >= 4,
      `mueller_tablet renewed ${renewalsOf('mueller_tablet')} times`,
    );
    t.ok(lines.some((l) => l.fields.action === 'heartbeat'));
    t.ok(lines.every((l) => typeof l.message === 'string' && !/passphrase|secret/.test(l.message)));

    // Stopped: once the bound passes, devices refuse to write, and the error names the agent.
    clock += (defaultStalenessSeconds + 3600) * 1000;
    const trust = await trustOf(session);
    const stale = t.throws(() =>
      requireFresh(trust, Math.floor(clock / 1000)),
    ) as StaleCommitteeStateError;
    t.type(stale, StaleCommitteeStateError);
    t.match(stale.hint, /ratsfach admin agent/);
    // One round brings it back.
    const actions = await agentRound(session, now(), log);
    t.ok(actions.some((a) => a.action === 'heartbeat'));
    requireFresh(await trustOf(session), Math.floor(clock / 1000));
  },
);

t.test(
  'a lapsed certificate is reported, not revived; a failing round is logged and the agent goes on',
  async (t) => {
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    const { session } = await tenantWithDevices(t, start);
    const { lines, log } = recorder();
    const late = new Date(start.getTime() + 31 * day * 1000);
    const actions = await agentRound(session, late, log);
    t.same(
      actions
        .filter((a) => a.action === 'lapsed')
        .map((a) => a.deviceId)
        .sort(),
      ['mueller_phone', 'mueller_tablet', 'schmidt_laptop'],
    );
    t.notOk(actions.some((a) => a.action === 'renewed'));
    const warnSoon = await agentRound(session, new Date(start.getTime() + 340 * day * 1000), log);
    t.ok(
      warnSoon.some((a) => a.action === 'adminCertificateDue'),
      'the admin certificate is due within 30 days',
    );

    // An open code whose expiry passed, and one this device did not issue, are never certified.
    const invitation = await invitePerson(session, 'schmidt', start, 3600);
    const request = createEnrolmentRequest(
      parseEnrolmentCode(invitation.code.text),
      { tenantId: 'stadt', userId: 'schmidt', deviceId: 'schmidt_phone' },
      generateDeviceKeys(),
    );
    await new ApiClient({ baseUrl: session.profile.serverUrl }).call(submitEnrolment, {
      params: { tenantId: 'stadt' },
      body: { codeId: invitation.codeId, request: base64urlEncode(request) },
    });
    const expired = await approveEnrolments(session, {}, new Date(start.getTime() + 7200 * 1000));
    t.same(
      expired.map((r) => r.outcome),
      ['expired'],
    );
    const foreign = await approveEnrolments({ ...session, dir: await tempDir(t) }, {}, start);
    t.same(
      foreign.map((r) => r.outcome),
      ['unknownCode'],
    );

    let calls = 0;
    const controller = new AbortController();
    const rounds = await runAgent({
      session: async () => {
        calls += 1;
        if (calls === 1)
          throw Object.assign(new Error('service restarting'), { code: 'ECONNREFUSED' });
        return session;
      },
      now: () => late,
      log,
      signal: controller.signal,
      everySeconds: 1,
      sleep: async () => {
        if (calls >= 2) controller.abort();
      },
    });
    t.equal(rounds, 2);
    t.ok(lines.some((l) => l.fields.action === 'failed' && l.fields.code === 'ECONNREFUSED'));
  },
);
