// A council on real stores and real HTTP (documentWorld) whose staff has no keys yet, served with
// the identity routes too, plus what the key tests need around it: admin heartbeats, device
// profiles for the `ratsfach` command, and a verified view of a committee's keys.
import { join } from 'node:path';
import {
  CommitteeState,
  fingerprint,
  minimumArgon2id,
  openEpochKeys,
  sodium,
  TrustView,
} from '@ratsfach/crypto';
import { buildTestApp } from '../../../../services/api/test/helpers/buildTestApp.js';
import {
  documentWorld,
  type WorldDevice,
} from '../../../../services/api/test/helpers/documentWorld.js';
import { SqliteServiceState } from '../../../../services/api/src/state/sqliteServiceState.js';
import { createProfile, ProfileKind } from '../../src/cli/profile.js';
import { ApiClient } from '../../src/http/apiClient.js';
import { logInDevice } from '../../src/http/deviceLogin.js';
import { heartbeatCommand } from '../../src/records/tenantRecords.js';
import { nextLink } from '../../src/records/toCommandJson.js';
import { confirmDeviceCommand, revokeDeviceCommand } from '../../src/records/userRecords.js';
import {
  changeMembershipCommand,
  coSignMembershipCommand,
} from '../../src/records/committeeRecords.js';
import type { MemberRole } from '@ratsfach/domain';
import { tempDir } from './cliHarness.js';

const fromHex = (text: string) => sodium().from_hex(text);
export const passphraseOf = (device: WorldDevice) => `${device.deviceId} device passphrase`;

/** The world of `documentWorld` for tenant t1, served with the identity routes as well. */
export async function keysWorld(
  t: Parameters<typeof documentWorld>[0] & { teardown(fn: () => unknown): void },
) {
  const w = await documentWorld(t);
  const serviceState = SqliteServiceState.open(join(await tempDir(t), 'service-state.sqlite'));
  t.teardown(() => serviceState.close());
  const app = await buildTestApp(t, {
    stores: { eventStore: w.eventStore, blobStore: w.blobStore },
    readModel: w.readModel,
    serviceState,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const rootPin = fromHex(fingerprint(w.rootKey('t1')).slice(0, 40));
  const users = new Set<string>();
  const committees = new Set<string>();

  const person = async (userId: string, deviceId: string) => {
    users.add(userId);
    return w.person('t1', userId, deviceId);
  };
  const createCommittee = async (committeeId: string) => {
    committees.add(committeeId);
    await w.createCommittee('t1', committeeId);
  };

  /** An admin heartbeat naming every user's and committee's head, as the admin agent signs it. */
  const heartbeat = async (time = Math.floor(Date.now() / 1000)) => {
    const userHeads: Record<string, Uint8Array> = {};
    for (const userId of users)
      userHeads[userId] = fromHex((await w.head(`user-t1-${userId}`)).hash);
    const committeeHeads: Record<string, { length: number; hash: Uint8Array }> = {};
    for (const committeeId of committees) {
      const head = await w.head(`committee-t1-${committeeId}`);
      committeeHeads[committeeId] = { length: head.length, hash: fromHex(head.hash) };
    }
    const admin = w.asAdmin('t1');
    await w.run(
      heartbeatCommand({
        tenantId: 't1',
        signerDeviceId: admin.signerDeviceId,
        time,
        userHeads,
        committeeHeads,
        link: nextLink(await w.head('tenant-t1')),
        signer: admin.signer,
      }),
    );
    await w.settled();
  };

  /** A member device profile of `device` for the `ratsfach` command. */
  const profile = async (device: WorldDevice): Promise<string> => {
    const dir = join(await tempDir(t), device.deviceId);
    await createProfile(
      dir,
      {
        kind: ProfileKind.member,
        serverUrl,
        tenantId: 't1',
        userId: device.userId,
        deviceId: device.deviceId,
        rootFingerprint: fingerprint(w.rootKey('t1')),
        createdAt: new Date().toISOString(),
      },
      device.keys,
      passphraseOf(device),
      minimumArgon2id,
    );
    return dir;
  };

  /** The trust view and a committee's state, folded from the log from the pinned root. */
  const view = async (committeeId: string) => {
    const userChains: Record<string, Uint8Array[]> = {};
    for (const userId of users) userChains[userId] = await w.chain(`user-t1-${userId}`);
    const trust = TrustView.build({ rootPin, tenantChain: await w.chain('tenant-t1'), userChains });
    const chain = await w.chain(`committee-t1-${committeeId}`);
    return { trust, chain, committee: CommitteeState.fold(trust, chain) };
  };

  /** The epochs whose keys `device` can open in `committeeId` (empty when none). */
  const epochsOf = async (device: WorldDevice, committeeId: string): Promise<number[]> => {
    const { committee } = await view(committeeId);
    try {
      return [...openEpochKeys(committee, device.keys).keys()].sort();
    } catch {
      return [];
    }
  };

  /** The current epoch key as `device` opens it. */
  const epochKey = async (device: WorldDevice, committeeId: string) => {
    const { committee } = await view(committeeId);
    const key = openEpochKeys(committee, device.keys).get(committee.currentEpoch);
    if (key === undefined) throw new Error(`${device.deviceId} holds no current key`);
    return { epoch: committee.currentEpoch, key };
  };

  /** `signer` confirms `device` (for another user: as staff of `committeeId`), appended directly. */
  const confirmDirect = async (
    signer: WorldDevice,
    device: WorldDevice,
    committeeId: string | null,
  ) => {
    await w.run(
      confirmDeviceCommand({
        tenantId: 't1',
        userId: device.userId,
        deviceId: device.deviceId,
        fingerprint: fingerprint(device.keys.signing.publicKey),
        tenantPosition: (await w.head('tenant-t1')).length,
        committeeId,
        signerUserId: signer.userId,
        signerDeviceId: signer.deviceId,
        signer: signer.keys.signing,
        link: nextLink(await w.head(`user-t1-${device.userId}`)),
      }),
    );
    await w.settled();
  };

  const tenantLength = async () => (await w.head('tenant-t1')).length;

  /**
   * The admin adds `member` (at the tenant's current length, so records never name an older
   * position than their predecessors); `cosigner` co-signs unless null (then it waits for
   * `ratsfach confirm`).
   */
  const addMember = async (
    member: WorldDevice,
    committeeId: string,
    role: MemberRole,
    cosigner: WorldDevice | null,
  ) => {
    const stream = `committee-t1-${committeeId}`;
    await w.run(
      changeMembershipCommand({
        ...w.asAdmin('t1'),
        tenantPosition: await tenantLength(),
        committeeId,
        userId: member.userId,
        change: 'add',
        role,
        link: nextLink(await w.head(stream)),
      }),
    );
    if (cosigner !== null) {
      const before = await w.head(stream);
      await w.run(
        coSignMembershipCommand({
          tenantId: 't1',
          committeeId,
          tenantPosition: await tenantLength(),
          signerDeviceId: cosigner.deviceId,
          signerUserId: cosigner.userId,
          signer: cosigner.keys.signing,
          userId: member.userId,
          membershipSequence: before.length - 1,
          membershipHash: fromHex(before.hash),
          link: nextLink(before),
        }),
      );
    }
    await w.settled();
  };

  /** The admin removes `member` from the committee. */
  const removeMember = async (member: WorldDevice, committeeId: string, role: MemberRole) => {
    await w.run(
      changeMembershipCommand({
        ...w.asAdmin('t1'),
        tenantPosition: await tenantLength(),
        committeeId,
        userId: member.userId,
        change: 'remove',
        role,
        link: nextLink(await w.head(`committee-t1-${committeeId}`)),
      }),
    );
    await w.settled();
  };

  /** The admin revokes `device` (a lost tablet). */
  const revoke = async (device: WorldDevice) => {
    await w.run(
      revokeDeviceCommand({
        ...w.asAdmin('t1'),
        tenantPosition: await tenantLength(),
        userId: device.userId,
        deviceId: device.deviceId,
        fingerprint: fingerprint(device.keys.signing.publicKey),
        reason: 'lost',
        link: nextLink(await w.head(`user-t1-${device.userId}`)),
      }),
    );
    await w.settled();
  };

  /** A client of the served app logged in as `device`. */
  const login = async (device: WorldDevice): Promise<ApiClient> =>
    (
      await logInDevice(new ApiClient({ baseUrl: serverUrl }), {
        tenantId: 't1',
        deviceId: device.deviceId,
        signing: device.keys.signing,
      })
    ).api;

  return {
    w,
    login,
    addMember,
    removeMember,
    revoke,
    tenantLength,
    serverUrl,
    rootPin,
    person,
    createCommittee,
    heartbeat,
    profile,
    view,
    epochsOf,
    epochKey,
    confirmDirect,
  };
}
