import {
  eraseDirectoryEntry,
  listDirectory,
  listEnrolments,
  listTenantChains,
  putDirectoryEntry,
  registerEnrolmentCode,
  type SignedCommand,
  withdrawEnrolmentCode,
  type DirectoryEntry,
} from '@ratsfach/api-contract';
import {
  adminCertificateSeconds,
  checkEnrolmentRequest,
  CryptoErrorCode,
  deviceCertificateSeconds,
  fingerprint,
  TrustError,
  type OpenedRecord,
} from '@ratsfach/crypto';
import {
  base64urlDecode,
  base64urlEncode,
  bytesEqual,
  ConflictError,
  IntegrityError,
  NotFoundError,
  ValidationError,
  type MemberRole,
  isValidId,
} from '@ratsfach/domain';
import { ApiProblemError } from '../http/apiClient.js';
import {
  certifyEnrolledDeviceCommand,
  certifyDeviceCommand,
  createUserCommand,
  revokeDeviceCommand,
} from '../records/userRecords.js';
import { changeMembershipCommand, createCommitteeCommand } from '../records/committeeRecords.js';
import {
  certifyAdminDeviceCommand,
  heartbeatCommand,
  revokeAdminDeviceCommand,
} from '../records/tenantRecords.js';
import { AdminErrorCode } from './adminErrorCode.js';
import {
  type AdminSession,
  nextLinkOf,
  readChain,
  readTenantChain,
  settle,
  streams,
  submit,
  unixSeconds,
  type VerifiedChain,
} from './adminSession.js';
import {
  adminDevicesOf,
  type DeviceView,
  membersOf,
  type MemberView,
  userDevicesOf,
} from './chainViews.js';
import { createInvitation, type Invitation, maximumInviteSeconds } from './invitation.js';
import { forgetInvites, loadInvites, saveInvite } from './inviteStore.js';
import type { OpenedRoot } from './rootKeyFile.js';

const requireId = (what: string, id: string): void => {
  if (!isValidId(id)) {
    throw new ValidationError(
      AdminErrorCode.unknown,
      `${what} ${JSON.stringify(id)} is not a valid id`,
      {
        hint: 'Ids are 1 to 64 lowercase letters, digits and underscores, e.g. mueller_anna.',
      },
    );
  }
};

const tenantPositionOf = (tenant: VerifiedChain): number => tenant.records.length;

/** Adds a person: their directory entry (name, e-mail) and, once, their user chain. */
export async function addPerson(
  session: AdminSession,
  person: { readonly userId: string; readonly displayName: string; readonly email?: string | null },
  now: Date,
): Promise<{ entry: DirectoryEntry; created: boolean }> {
  requireId('person', person.userId);
  const { tenantId, deviceId } = session.profile;
  const tenant = await readTenantChain(session);
  const chain = await readChain(session.api, tenantId, streams.user(tenantId, person.userId));
  let created = false;
  if (chain.records.length === 0) {
    await submit(
      session,
      createUserCommand(
        {
          tenantId,
          userId: person.userId,
          tenantPosition: tenantPositionOf(tenant),
          signerDeviceId: deviceId,
          signer: session.keys.signing,
        },
        { now: now.getTime() },
      ),
    );
    created = true;
  }
  const entry = await session.api.call(putDirectoryEntry, {
    params: { tenantId, userId: person.userId },
    body: { displayName: person.displayName, email: person.email ?? null },
  });
  await settle(session);
  return { entry, created };
}

/** A person with their devices, as the directory and their user chain show them. */
export interface PersonView {
  readonly userId: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly devices: readonly DeviceView[];
}

/** The tenant's chains, each read and verified: the tenant chain, users' and committees'. */
export interface TenantChains {
  readonly tenant: VerifiedChain;
  readonly users: ReadonlyMap<string, VerifiedChain>;
  readonly committees: ReadonlyMap<string, VerifiedChain>;
}

const listingContradicts = (what: string): IntegrityError =>
  new IntegrityError(
    AdminErrorCode.chainListing,
    `the service's listing of the tenant's chains contradicts the signed chains: ${what}`,
    {
      hint: 'Do not act on this listing (no heartbeat is signed over it); tell the operator: the service withholds or invents a chain.',
    },
  );

/**
 * Every user and committee chain of the tenant, read and verified. The service lists their ids
 * to admin devices (any admin device gets the same answer, so nothing about the tenant lives
 * only in one device's profile), but the listing is checked against what the signed chains
 * name themselves: every user and committee a heartbeat of an admin device named, and every
 * member of a listed committee, must be listed; every listed chain must exist; and each chain
 * must still hold the head the newest heartbeat named. A service withholding a person (say,
 * one whose device was just revoked) would otherwise drop them silently from the next
 * heartbeat and from the agent's renewals.
 */
export async function readTenantChains(session: AdminSession): Promise<TenantChains> {
  const { tenantId } = session.profile;
  const listing = await session.api.call(listTenantChains, { params: { tenantId } });
  const tenant = await readTenantChain(session);
  const admins = new Set([...adminDevicesOf(tenant.records).values()].map((d) => d.fingerprint));
  const named = { users: new Set<string>(), committees: new Set<string>() };
  let newest: OpenedRecord<'heartbeat'>['body'] | undefined;
  for (const record of tenant.records) {
    if (record.purpose !== 'heartbeat' || !admins.has(record.signerFingerprint)) continue;
    newest = record.body as OpenedRecord<'heartbeat'>['body'];
    for (const userId of Object.keys(newest.userHeads)) named.users.add(userId);
    for (const committeeId of Object.keys(newest.committeeHeads)) {
      named.committees.add(committeeId);
    }
  }
  const read = async (kind: 'user' | 'committee', id: string): Promise<VerifiedChain> => {
    const chain = await readChain(session.api, tenantId, streams[kind](tenantId, id));
    if (chain.records.length === 0) {
      throw listingContradicts(`it lists the ${kind} ${id}, whose chain it does not serve`);
    }
    return chain;
  };
  const users = new Map<string, VerifiedChain>();
  for (const userId of listing.users) users.set(userId, await read('user', userId));
  const committees = new Map<string, VerifiedChain>();
  for (const committeeId of listing.committees) {
    const chain = await read('committee', committeeId);
    committees.set(committeeId, chain);
    for (const userId of membersOf(chain.records).keys()) named.users.add(userId);
  }
  for (const [kind, ids, listed] of [
    ['user', named.users, users],
    ['committee', named.committees, committees],
  ] as const) {
    for (const id of ids) {
      if (!listed.has(id)) {
        throw listingContradicts(`it withholds the ${kind} ${id}, whom the signed chains name`);
      }
    }
  }
  for (const [userId, head] of Object.entries(newest?.userHeads ?? {})) {
    if (!users.get(userId)!.records.some((r) => bytesEqual(r.hash, head))) {
      throw listingContradicts(`the chain of ${userId} lacks the head the newest heartbeat named`);
    }
  }
  for (const [committeeId, head] of Object.entries(newest?.committeeHeads ?? {})) {
    const record = committees.get(committeeId)!.records[head.length - 1];
    if (record === undefined || !bytesEqual(record.hash, head.hash)) {
      throw listingContradicts(
        `the chain of ${committeeId} lacks the head the newest heartbeat named`,
      );
    }
  }
  return { tenant, users, committees };
}

/** Every person: the tenant's users and any directory entry, with their verified devices. */
export async function listPeople(session: AdminSession): Promise<PersonView[]> {
  const { tenantId } = session.profile;
  const { entries } = await session.api.call(listDirectory, { params: { tenantId } });
  const { users } = await readTenantChains(session);
  const ids = [...new Set([...entries.map((e) => e.userId), ...users.keys()])].sort();
  const people: PersonView[] = [];
  for (const userId of ids) {
    const entry = entries.find((e) => e.userId === userId);
    // A directory entry without a listed chain: a person whose chain is not written yet.
    const chain = users.get(userId) ?? { records: [] };
    people.push({
      userId,
      displayName: entry?.displayName ?? null,
      email: entry?.email ?? null,
      devices: [...userDevicesOf(chain.records).values()],
    });
  }
  return people;
}

/** Erases a person's directory entry (name, e-mail); the log keeps their id only. */
export async function erasePerson(session: AdminSession, userId: string): Promise<void> {
  requireId('person', userId);
  await session.api.call(eraseDirectoryEntry, {
    params: { tenantId: session.profile.tenantId, userId },
  });
}

async function requireUserChain(session: AdminSession, userId: string): Promise<VerifiedChain> {
  requireId('person', userId);
  const { tenantId } = session.profile;
  const chain = await readChain(session.api, tenantId, streams.user(tenantId, userId));
  if (chain.records.length === 0) {
    throw new NotFoundError(AdminErrorCode.unknown, `there is no person ${userId}`, {
      hint: `Add them first: ratsfach admin people add ${userId} --name "<name>".`,
    });
  }
  return chain;
}

async function membershipChange(
  session: AdminSession,
  committee: VerifiedChain,
  committeeId: string,
  userId: string,
  change: 'add' | 'remove' | 'changeRole',
  role: MemberRole,
  tenantPosition: number,
  now: Date,
): Promise<VerifiedChain> {
  const { tenantId, deviceId } = session.profile;
  await submit(
    session,
    changeMembershipCommand(
      {
        tenantId,
        committeeId,
        userId,
        change,
        role,
        tenantPosition,
        signerDeviceId: deviceId,
        signer: session.keys.signing,
        link: nextLinkOf(committee),
      },
      { now: now.getTime() },
    ),
  );
  return readChain(session.api, tenantId, streams.committee(tenantId, committeeId));
}

/**
 * Creates a committee with its founding staff. Each staff member's first device co-signs their
 * own addition (the founding rule), so staff hold keys once they confirm on their device.
 */
export async function createCommittee(
  session: AdminSession,
  committeeId: string,
  staff: readonly string[],
  now: Date,
): Promise<MemberView[]> {
  requireId('committee', committeeId);
  if (staff.length === 0) {
    throw new ValidationError(
      AdminErrorCode.lastKeeper,
      `committee ${committeeId} needs founding staff`,
      {
        hint: 'Name at least one staff member: --staff <person>.',
      },
    );
  }
  const { tenantId, deviceId } = session.profile;
  for (const userId of staff) await requireUserChain(session, userId);
  const tenant = await readTenantChain(session);
  let chain = await readChain(session.api, tenantId, streams.committee(tenantId, committeeId));
  if (chain.records.length > 0) {
    throw new ConflictError(AdminErrorCode.unknown, `committee ${committeeId} exists already`, {
      hint: 'Choose another id, or add members with `ratsfach admin committees add`.',
    });
  }
  await submit(
    session,
    createCommitteeCommand(
      {
        tenantId,
        committeeId,
        tenantPosition: tenantPositionOf(tenant),
        signerDeviceId: deviceId,
        signer: session.keys.signing,
      },
      { now: now.getTime() },
    ),
  );
  chain = await readChain(session.api, tenantId, streams.committee(tenantId, committeeId));
  for (const userId of staff) {
    chain = await membershipChange(
      session,
      chain,
      committeeId,
      userId,
      'add',
      'staff',
      tenantPositionOf(tenant),
      now,
    );
  }
  await settle(session);
  return [...membersOf(chain.records).values()];
}

async function requireCommitteeChain(
  session: AdminSession,
  committeeId: string,
): Promise<VerifiedChain> {
  requireId('committee', committeeId);
  const { tenantId } = session.profile;
  const chain = await readChain(session.api, tenantId, streams.committee(tenantId, committeeId));
  if (chain.records.length === 0) {
    throw new NotFoundError(AdminErrorCode.unknown, `there is no committee ${committeeId}`, {
      hint: `Create it first: ratsfach admin committees create ${committeeId} --staff <person>.`,
    });
  }
  return chain;
}

/** The members of a committee. */
export async function committeeMembers(
  session: AdminSession,
  committeeId: string,
): Promise<MemberView[]> {
  return [...membersOf((await requireCommitteeChain(session, committeeId)).records).values()];
}

/** Every committee of the tenant with its members, each read from its verified chain. */
export async function listCommittees(
  session: AdminSession,
): Promise<Array<{ committeeId: string; members: MemberView[] }>> {
  const { committees } = await readTenantChains(session);
  return [...committees]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([committeeId, chain]) => ({
      committeeId,
      members: [...membersOf(chain.records).values()],
    }));
}

/**
 * Adds a member, changes a role or removes a member. Removing or demoting the last staff member
 * is refused: nobody could then write, start epochs or co-sign anyone's addition.
 */
export async function changeMember(
  session: AdminSession,
  committeeId: string,
  userId: string,
  change: 'add' | 'remove' | 'changeRole',
  role: MemberRole | undefined,
  now: Date,
): Promise<MemberView[]> {
  const chain = await requireCommitteeChain(session, committeeId);
  await requireUserChain(session, userId);
  const members = membersOf(chain.records);
  const member = members.get(userId);
  if (change === 'add' && member !== undefined) {
    throw new ConflictError(
      AdminErrorCode.unknown,
      `${userId} is a member of ${committeeId} already`,
      {
        hint: 'Change their role instead: ratsfach admin committees role.',
      },
    );
  }
  if (change !== 'add' && member === undefined) {
    throw new NotFoundError(AdminErrorCode.unknown, `${userId} is not a member of ${committeeId}`, {
      hint: `List the members: ratsfach admin committees show ${committeeId}.`,
    });
  }
  const staffLeft = [...members.values()].filter((m) => m.role === 'staff' && m.userId !== userId);
  const leavesStaff = member?.role === 'staff' && (change === 'remove' || role !== 'staff');
  if (leavesStaff && staffLeft.length === 0) {
    throw new ValidationError(
      AdminErrorCode.lastKeeper,
      `${userId} is the last staff member of ${committeeId}`,
      { hint: 'Add another staff member first, then remove or change this one.' },
    );
  }
  const effectiveRole = (role ?? member?.role) as MemberRole | undefined;
  if (effectiveRole === undefined) {
    throw new ValidationError(AdminErrorCode.unknown, 'a role is needed', {
      hint: 'Pass --role staff, reader or deputy.',
    });
  }
  const tenant = await readTenantChain(session);
  const after = await membershipChange(
    session,
    chain,
    committeeId,
    userId,
    change,
    effectiveRole,
    tenantPositionOf(tenant),
    now,
  );
  await settle(session);
  return [...membersOf(after.records).values()];
}

/**
 * Makes a one-time enrolment code for a person, registers its id with the service and keeps its
 * secret on this device (sealed) to check the device's MAC at approval.
 */
export async function invitePerson(
  session: AdminSession,
  userId: string,
  now: Date,
  validSeconds?: number,
): Promise<Invitation> {
  await requireUserChain(session, userId);
  if (validSeconds !== undefined && (validSeconds <= 0 || validSeconds > maximumInviteSeconds)) {
    throw new ValidationError(
      AdminErrorCode.unknown,
      `a code may be valid for at most ${maximumInviteSeconds / 86400} days`,
      {
        hint: 'Pass a shorter --valid-days.',
      },
    );
  }
  const tenant = await readTenantChain(session);
  const root = tenant.records[0]!;
  const { tenantId, serverUrl } = session.profile;
  const invitation = createInvitation({
    tenantId,
    userId,
    serverUrl,
    rootKey: root.signerKey,
    now,
    ...(validSeconds === undefined ? {} : { validSeconds }),
  });
  await saveInvite(session.dir, session.keys.signing, {
    codeId: invitation.codeId,
    userId,
    secret: invitation.code.secret,
    createdAt: now.toISOString(),
    expiresAt: invitation.expiresAt,
  });
  await session.api.call(registerEnrolmentCode, {
    params: { tenantId },
    body: { codeId: invitation.codeId, userId, expiresAt: invitation.expiresAt },
  });
  return invitation;
}

/** Whether a certificate in the user chain was issued under the enrolment code `codeId`. */
const enrolledUnder = (user: VerifiedChain, codeId: string): boolean =>
  user.records.some((record) => {
    if (record.purpose !== 'device-certificate') return false;
    const { enrolmentCodeId } = record.body as OpenedRecord<'device-certificate'>['body'];
    return enrolmentCodeId instanceof Uint8Array && base64urlEncode(enrolmentCodeId) === codeId;
  });

/** What happened to one enrolled device at approval. */
export interface ApprovalResult {
  readonly submissionId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
  readonly codeId: string;
  readonly outcome: 'certified' | 'attack' | 'unknownCode' | 'expired' | 'skipped' | 'refused';
  readonly detail?: string;
}

/**
 * Lists enrolled devices and certifies those named (or all): each request's MAC is checked
 * under the code's secret this device kept. A failed MAC means keys or ids were swapped in
 * transit: it is reported as an attack and never certified. What is shown and compared is what
 * the signed request says, never the service's listing: a listing that names another person,
 * device or key than its request is refused, and a code the user chain already names (a device
 * enrolled under it) never certifies a second one.
 */
export async function approveEnrolments(
  session: AdminSession,
  options: { readonly only?: readonly string[]; readonly dryRun?: boolean },
  now: Date,
): Promise<ApprovalResult[]> {
  const { tenantId, deviceId } = session.profile;
  const { submissions } = await session.api.call(listEnrolments, { params: { tenantId } });
  const invites = await loadInvites(session.dir, session.keys.signing);
  const tenant = await readTenantChain(session);
  const results: ApprovalResult[] = [];
  const used: string[] = [];
  for (const submission of submissions) {
    const base = {
      submissionId: submission.submissionId,
      userId: submission.userId,
      deviceId: submission.deviceId,
      fingerprint: submission.fingerprint,
      codeId: submission.codeId,
    };
    const named =
      options.only === undefined ||
      options.only.some((id) => id === submission.deviceId || id === submission.submissionId);
    const invite = invites.find((i) => i.codeId === submission.codeId);
    if (invite === undefined) {
      results.push({
        ...base,
        outcome: 'unknownCode',
        detail: 'this admin device did not issue the code',
      });
      continue;
    }
    if (Date.parse(invite.expiresAt) <= now.getTime()) {
      results.push({
        ...base,
        outcome: 'expired',
        detail: `the code expired at ${invite.expiresAt}`,
      });
      continue;
    }
    const user = await readChain(session.api, tenantId, streams.user(tenantId, invite.userId));
    const request = base64urlDecode(submission.request);
    const code = { codeId: base64urlDecode(invite.codeId), secret: invite.secret };
    let command;
    try {
      const claim = checkEnrolmentRequest(request, code);
      const signed = {
        userId: claim.userId,
        deviceId: claim.deviceId,
        fingerprint: fingerprint(claim.signingKey),
      };
      if (
        signed.userId !== submission.userId ||
        signed.deviceId !== submission.deviceId ||
        signed.fingerprint !== submission.fingerprint
      ) {
        results.push({
          ...base,
          ...signed,
          outcome: 'refused',
          detail: `the service lists ${submission.userId}/${submission.deviceId} (${submission.fingerprint}), the signed request names ${signed.userId}/${signed.deviceId} (${signed.fingerprint})`,
        });
        continue;
      }
      if (enrolledUnder(user, invite.codeId)) {
        used.push(invite.codeId);
        results.push({
          ...base,
          outcome: 'refused',
          detail: 'the code enrolled a device already; a code enrols one device',
        });
        continue;
      }
      command = certifyEnrolledDeviceCommand(
        {
          request,
          code,
          terms: {
            issuedFor: { tenantId, userId: invite.userId },
            notBefore: unixSeconds(now),
            notAfter: unixSeconds(now) + deviceCertificateSeconds,
            tenantPosition: tenantPositionOf(tenant),
            link: nextLinkOf(user),
          },
          signerDeviceId: deviceId,
          signer: session.keys.signing,
        },
        { now: now.getTime() },
      );
    } catch (error) {
      if (error instanceof TrustError && error.code === CryptoErrorCode.enrolmentMac) {
        // The code's id is in someone else's hands with keys of their own: the code is burnt.
        // Withdrawing it stops any further submission under it; the person gets a new one.
        await session.api.call(withdrawEnrolmentCode, {
          params: { tenantId, codeId: invite.codeId },
        });
        used.push(invite.codeId);
        results.push({ ...base, outcome: 'attack', detail: error.message });
        continue;
      }
      if (error instanceof TrustError || error instanceof ValidationError) {
        results.push({ ...base, outcome: 'refused', detail: error.message });
        continue;
      }
      throw error;
    }
    if (!named || options.dryRun === true) {
      results.push({
        ...base,
        outcome: 'skipped',
        detail: 'the MAC holds; not certified this time',
      });
      continue;
    }
    try {
      await submit(session, command);
    } catch (error) {
      if (error instanceof ApiProblemError && error.status < 500) {
        results.push({ ...base, outcome: 'refused', detail: `${error.code}: ${error.message}` });
        continue;
      }
      throw error;
    }
    used.push(invite.codeId);
    results.push({ ...base, outcome: 'certified' });
  }
  await forgetInvites(session.dir, used);
  await settle(session);
  return results;
}

/** A user's device from their verified chain; not found (with the listing to run) otherwise. */
async function requireUserDevice(
  session: AdminSession,
  userId: string,
  target: string,
): Promise<{ chain: VerifiedChain; device: DeviceView }> {
  const chain = await requireUserChain(session, userId);
  const device = userDevicesOf(chain.records).get(target);
  if (device === undefined) {
    throw new NotFoundError(AdminErrorCode.unknown, `${userId} has no device ${target}`, {
      hint: `List their devices: ratsfach admin devices list ${userId}.`,
    });
  }
  return { chain, device };
}

/** Signs a user-chain record at the tenant chain's current position, submits it and settles. */
async function submitAtTenantPosition(
  session: AdminSession,
  command: (tenantPosition: number) => SignedCommand,
): Promise<void> {
  const tenant = await readTenantChain(session);
  await submit(session, command(tenantPositionOf(tenant)));
  await settle(session);
}

/** Renews a device in good standing: the same keys, a fresh validity. */
export async function renewDevice(
  session: AdminSession,
  userId: string,
  deviceIdToRenew: string,
  now: Date,
): Promise<DeviceView> {
  const { tenantId, deviceId } = session.profile;
  const { chain, device } = await requireUserDevice(session, userId, deviceIdToRenew);
  if (device.revoked) {
    throw new ValidationError(
      AdminErrorCode.unknown,
      `${deviceIdToRenew} is revoked and is never renewed`,
      {
        hint: 'Enrol the device again with a fresh code (ratsfach admin invite).',
      },
    );
  }
  const validity = {
    notBefore: unixSeconds(now),
    notAfter: unixSeconds(now) + deviceCertificateSeconds,
  };
  await submitAtTenantPosition(session, (tenantPosition) =>
    certifyDeviceCommand(
      {
        tenantId,
        userId,
        deviceId: deviceIdToRenew,
        signingKey: device.signingKey,
        kemKey: device.kemKey,
        ...validity,
        enrolmentCodeId: null,
        tenantPosition,
        signerDeviceId: deviceId,
        signer: session.keys.signing,
        link: nextLinkOf(chain),
      },
      { now: now.getTime() },
    ),
  );
  return { ...device, ...validity };
}

/** Revokes a user's device at once (a lost tablet); the next epochs exclude it. */
export async function revokeDevice(
  session: AdminSession,
  userId: string,
  deviceIdToRevoke: string,
  reason: string,
  now: Date,
): Promise<DeviceView> {
  const { tenantId, deviceId } = session.profile;
  const { chain, device } = await requireUserDevice(session, userId, deviceIdToRevoke);
  if (device.revoked) return device;
  await submitAtTenantPosition(session, (tenantPosition) =>
    revokeDeviceCommand(
      {
        tenantId,
        userId,
        deviceId: deviceIdToRevoke,
        fingerprint: device.fingerprint,
        reason,
        tenantPosition,
        signerDeviceId: deviceId,
        signer: session.keys.signing,
        link: nextLinkOf(chain),
      },
      { now: now.getTime() },
    ),
  );
  return { ...device, revoked: true };
}

/**
 * Signs a heartbeat naming the head of every user chain and every committee chain of the
 * tenant (`readTenantChains`: listed by the service, each verified here): devices refuse to
 * wrap or write for a committee whose newest heartbeat is stale.
 */
export async function signHeartbeat(
  session: AdminSession,
  now: Date,
): Promise<{ time: number; users: number; committees: number; tenantLength: number }> {
  const { tenantId, deviceId } = session.profile;
  const { tenant, users, committees } = await readTenantChains(session);
  const userHeads: Record<string, Uint8Array> = {};
  for (const [userId, chain] of users) {
    userHeads[userId] = chain.records[chain.records.length - 1]!.hash;
  }
  const committeeHeads: Record<string, { length: number; hash: Uint8Array }> = {};
  for (const [committeeId, chain] of committees) {
    const hash = chain.records[chain.records.length - 1]!.hash;
    committeeHeads[committeeId] = { length: chain.records.length, hash };
  }
  const time = unixSeconds(now);
  await submit(
    session,
    heartbeatCommand(
      {
        tenantId,
        signerDeviceId: deviceId,
        time,
        userHeads,
        committeeHeads,
        link: nextLinkOf(tenant),
        signer: session.keys.signing,
      },
      { now: now.getTime() },
    ),
  );
  await settle(session);
  return {
    time,
    users: Object.keys(userHeads).length,
    committees: Object.keys(committeeHeads).length,
    tenantLength: tenant.records.length + 1,
  };
}

/** The admin devices of the tenant as the (root-checked) tenant chain shows them. */
export async function listAdminDevices(session: AdminSession): Promise<DeviceView[]> {
  return [...adminDevicesOf((await readTenantChain(session)).records).values()];
}

/** The public half of a new admin device, as `ratsfach admin device request` writes it. */
export interface AdminDeviceRequest {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
  readonly kemKey: Uint8Array;
}

/**
 * The root certifies another admin device; carried to the service by this admin device, which
 * then signs a heartbeat so that the new certificate is in force at the tenant chain's head.
 */
export async function certifyAdminDevice(
  session: AdminSession,
  root: OpenedRoot,
  request: AdminDeviceRequest,
  now: Date,
): Promise<DeviceView> {
  requireRoot(session, root);
  const tenant = await readTenantChain(session);
  await submit(
    session,
    certifyAdminDeviceCommand(
      {
        tenantId: request.tenantId,
        userId: request.userId,
        deviceId: request.deviceId,
        signingKey: request.signingKey,
        kemKey: request.kemKey,
        notBefore: unixSeconds(now),
        notAfter: unixSeconds(now) + adminCertificateSeconds,
        link: nextLinkOf(tenant),
        root: root.signing,
      },
      { now: now.getTime() },
    ),
  );
  const device = adminDevicesOf((await readTenantChain(session)).records).get(request.deviceId);
  // The time at a tenant position is the newest heartbeat's, and that one predates the new
  // certificate: until a heartbeat follows it, every record the new device signs (its own
  // heartbeats too) is judged before its notBefore and refused. This device signs one now.
  await signHeartbeat(session, now);
  return device!;
}

/** The root revokes an admin device; revoking the last one in force is refused. */
export async function revokeAdminDevice(
  session: AdminSession,
  root: OpenedRoot,
  deviceIdToRevoke: string,
  reason: string,
  now: Date,
): Promise<DeviceView> {
  requireRoot(session, root);
  const tenant = await readTenantChain(session);
  const devices = adminDevicesOf(tenant.records);
  const device = devices.get(deviceIdToRevoke);
  if (device === undefined || device.revoked) {
    throw new NotFoundError(
      AdminErrorCode.unknown,
      `there is no admin device ${deviceIdToRevoke} in force`,
      {
        hint: 'List the admin devices: ratsfach admin devices admins.',
      },
    );
  }
  const time = unixSeconds(now);
  const others = [...devices.values()].filter(
    (d) =>
      d.deviceId !== deviceIdToRevoke && !d.revoked && d.notBefore <= time && time < d.notAfter,
  );
  if (others.length === 0) {
    throw new ValidationError(
      AdminErrorCode.lastKeeper,
      `${deviceIdToRevoke} is the only admin device in force`,
      {
        hint: 'Certify another admin device first (ratsfach admin devices certify-admin), then revoke this one.',
      },
    );
  }
  await submit(
    session,
    revokeAdminDeviceCommand(
      {
        tenantId: session.profile.tenantId,
        deviceId: deviceIdToRevoke,
        fingerprint: device.fingerprint,
        reason,
        link: nextLinkOf(tenant),
        root: root.signing,
      },
      { now: now.getTime() },
    ),
  );
  await settle(session);
  return { ...device, revoked: true };
}

const requireRoot = (session: AdminSession, root: OpenedRoot): void => {
  if (
    root.fingerprint !== session.profile.rootFingerprint ||
    root.tenantId !== session.profile.tenantId
  ) {
    throw new ValidationError(
      AdminErrorCode.rootMismatch,
      `the root key file is not the root of tenant ${session.profile.tenantId}`,
      {
        hint: 'Use the root key file that `ratsfach admin init` wrote for this tenant.',
      },
    );
  }
};
