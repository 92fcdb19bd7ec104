import { join } from 'node:path';
import t from 'tap';
import { listRecords, listTenantChains } from '@ratsfach/api-contract';
import { cryptoReady } from '@ratsfach/crypto';
import { MemberRole } from '@ratsfach/domain';
import type { ApiClient } from '../src/http/apiClient.js';
import {
  addPerson,
  changeMember,
  createCommittee,
  listCommittees,
  listPeople,
  readTenantChains,
  signHeartbeat,
} from '../src/admin/adminActions.js';
import { agentRound } from '../src/admin/adminAgent.js';
import { AdminErrorCode } from '../src/admin/adminErrorCode.js';
import {
  openAdminSession,
  readTenantChain,
  streams,
  type AdminSession,
} from '../src/admin/adminSession.js';
import { initTenant } from '../src/admin/initTenant.js';
import { startApi } from './support/apiProcess.js';
import { tempDir } from './support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

type Chains = { users: string[]; committees: string[] };
type Page = { records: unknown[]; next: number | null; length: number };

/**
 * The same session behind a lying service: `chains` rewrites the listing of the tenant's
 * chains, `page` rewrites a page of a chain's records (by stream).
 */
function lying(
  session: AdminSession,
  edit: { chains?: (c: Chains) => Chains; page?: (stream: string, p: Page) => Page },
): AdminSession {
  const honest = session.api;
  const api = Object.create(honest) as ApiClient;
  api.call = (async (route: unknown, input: { query?: { stream: string } }) => {
    const reply = await honest.call(route as typeof listTenantChains, input as never);
    if (route === listTenantChains && edit.chains) return edit.chains(reply as Chains);
    if (route === listRecords && edit.page) {
      return edit.page(input.query!.stream, reply as unknown as Page);
    }
    return reply;
  }) as ApiClient['call'];
  return { ...session, api };
}

const without = (list: string[], id: string) => list.filter((x) => x !== id);

t.test("the listing of the tenant's chains is checked against the signed chains", async (t) => {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
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
  for (const person of ['schmidt', 'mueller', 'weber']) {
    await addPerson(session, { userId: person, displayName: person }, start);
  }
  await createCommittee(session, 'bau', ['schmidt'], start);
  await createCommittee(session, 'kita', ['mueller'], start);

  const honest = await readTenantChains(session);
  t.same([...honest.committees.keys()].sort(), ['bau', 'kita']);
  t.ok(['mueller', 'schmidt', 'weber'].every((u) => honest.users.has(u)));
  // weber is named by no signed chain yet: before a heartbeat, withholding him goes unseen.
  const noWeber = lying(session, { chains: (c) => ({ ...c, users: without(c.users, 'weber') }) });
  t.notOk((await readTenantChains(noWeber)).users.has('weber'));

  // A member of a listed committee withheld: the committee chain names her.
  const noSchmidt = lying(session, {
    chains: (c) => ({ ...c, users: without(c.users, 'schmidt') }),
  });
  await t.rejects(readTenantChains(noSchmidt), {
    code: AdminErrorCode.chainListing,
    message: /withholds the user schmidt/,
  });

  // A listing that names chains the service does not serve.
  for (const [kind, edit] of [
    ['user', (c: Chains) => ({ ...c, users: [...c.users, 'phantom'] })],
    ['committee', (c: Chains) => ({ ...c, committees: [...c.committees, 'phantom'] })],
  ] as const) {
    await t.rejects(readTenantChains(lying(session, { chains: edit })), {
      code: AdminErrorCode.chainListing,
      message: new RegExp(`lists the ${kind} phantom, whose chain it does not serve`),
    });
  }

  const beat = await signHeartbeat(session, start);
  t.ok(beat.users >= 3 && beat.committees === 2);
  const tenantLength = (await readTenantChain(session)).records.length;

  // After the heartbeat, every user and committee it named must stay listed.
  for (const [what, edit, message] of [
    [
      'a user',
      (c: Chains) => ({ ...c, users: without(c.users, 'weber') }),
      /withholds the user weber/,
    ],
    [
      'a committee',
      (c: Chains) => ({ ...c, committees: without(c.committees, 'kita') }),
      /withholds the committee kita/,
    ],
  ] as const) {
    const liar = lying(session, { chains: edit });
    await t.rejects(readTenantChains(liar), { code: AdminErrorCode.chainListing, message }, what);
    await t.rejects(listPeople(liar), { code: AdminErrorCode.chainListing });
    await t.rejects(listCommittees(liar), { code: AdminErrorCode.chainListing });
    await t.rejects(signHeartbeat(liar, start), { code: AdminErrorCode.chainListing });
    await t.rejects(agentRound(liar, start, { info: () => {}, warn: () => {} }), {
      code: AdminErrorCode.chainListing,
    });
  }

  // A chain served shorter than the newest heartbeat saw it (its head withheld).
  await changeMember(session, 'kita', 'weber', 'add', MemberRole.reader, start);
  await signHeartbeat(session, start);
  for (const [stream, message] of [
    [streams.committee('stadt', 'kita'), /the chain of kita lacks the head the newest heartbeat/],
    // weber's chain is one record long: without its head it is no chain at all.
    [streams.user('stadt', 'weber'), /lists the user weber, whose chain it does not serve/],
  ] as const) {
    const rolledBack = lying(session, {
      page: (s, p) =>
        s === stream && p.next === null
          ? { ...p, records: p.records.slice(0, -1), length: p.length - 1 }
          : p,
    });
    await t.rejects(
      readTenantChains(rolledBack),
      { code: AdminErrorCode.chainListing, message },
      stream,
    );
  }
  t.equal(
    (await readTenantChain(session)).records.length,
    tenantLength + 1,
    'no heartbeat was signed over a lying listing',
  );
  const people = await listPeople(session);
  t.same(
    people.filter((p) => p.userId !== 'admin').map((p) => p.userId),
    ['mueller', 'schmidt', 'weber'],
    'the honest service still lists everyone',
  );
});
