import type { CommitteeRole, EpochReason, Purpose, RecordBodies } from '@ratsfach/kernel';
import {
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  openAnyRecord,
  signRecord,
  type DeviceKeys,
  type SigningKeyPair,
} from '../../src/index.js';
import { createEnrolmentCode, type EnrolmentCode } from '../../src/identity/enrolmentCode.js';
import { certifyEnrolledDevice, createEnrolmentRequest } from '../../src/identity/enrolment.js';
import { TrustView } from '../../src/identity/trustView.js';
import { CommitteeState } from '../../src/committee/committeeState.js';
import { startEpoch, wrapForNewDevices } from '../../src/committee/epochKeys.js';

export const t0 = 1_800_000_000;
export const day = 24 * 3600;

/** The head (length, hash) of a chain of stored records. */
export const headOf = (
  chain: readonly Uint8Array[],
): { sequence: number; previousHash: Uint8Array } => {
  const last = chain[chain.length - 1];
  return {
    sequence: chain.length,
    previousHash: last === undefined ? new Uint8Array(64) : openAnyRecord(last).hash,
  };
};

/**
 * A small tenant built the honest way: root, one admin device, users with enrolled devices, a
 * committee. Tests then play the malicious server by changing what they hand to the device.
 */
export class World {
  readonly tenantId = 'city';
  readonly committeeId = 'finance';
  readonly root: SigningKeyPair;
  readonly admin: DeviceKeys;
  readonly code: EnrolmentCode;
  readonly tenant: Uint8Array[] = [];
  readonly users: Record<string, Uint8Array[]> = {};
  readonly committee: Uint8Array[] = [];
  readonly devices: Record<string, DeviceKeys> = {};
  now = t0;

  private constructor() {
    this.root = generateSigningKeyPair();
    this.admin = generateDeviceKeys();
    this.code = createEnrolmentCode(this.root.publicKey);
    this.appendTenant('tenant-created', { tenantId: this.tenantId, createdAt: t0 }, this.root);
    this.appendTenant(
      'admin-device-certificate',
      {
        tenantId: this.tenantId,
        userId: 'admin',
        deviceId: 'admin1',
        signingKey: this.admin.signing.publicKey,
        kemKey: this.admin.kem.publicKey,
        notBefore: t0,
        notAfter: t0 + 365 * day,
      },
      this.root,
    );
  }

  static async create(): Promise<World> {
    await cryptoReady();
    return new World();
  }

  appendTenant<P extends Purpose>(
    purpose: P,
    body: RecordBodies[P],
    signer: SigningKeyPair,
  ): Uint8Array {
    const bytes = signRecord(purpose, headOf(this.tenant), body, signer);
    this.tenant.push(bytes);
    return bytes;
  }

  appendUser<P extends Purpose>(
    userId: string,
    purpose: P,
    body: RecordBodies[P],
    signer: SigningKeyPair,
  ): Uint8Array {
    const chain = (this.users[userId] ??= []);
    const bytes = signRecord(purpose, headOf(chain), body, signer);
    chain.push(bytes);
    return bytes;
  }

  appendCommittee<P extends Purpose>(
    purpose: P,
    body: RecordBodies[P],
    signer: SigningKeyPair,
  ): Uint8Array {
    const bytes = signRecord(purpose, headOf(this.committee), body, signer);
    this.committee.push(bytes);
    return bytes;
  }

  get tenantPosition(): number {
    return this.tenant.length;
  }

  /**
   * An admin heartbeat at `time` naming every user's chain head and the committee's head (as the
   * admin agent sees them: the honest, full chains).
   */
  heartbeat(time: number = this.now): Uint8Array {
    const userHeads: Record<string, Uint8Array> = {};
    for (const [userId, chain] of Object.entries(this.users)) {
      userHeads[userId] = headOf(chain).previousHash;
    }
    const committeeHeads: Record<string, { length: number; hash: Uint8Array }> = {};
    if (this.committee.length > 0) {
      committeeHeads[this.committeeId] = {
        length: this.committee.length,
        hash: headOf(this.committee).previousHash,
      };
    }
    return this.appendTenant(
      'heartbeat',
      { tenantId: this.tenantId, signerDeviceId: 'admin1', time, userHeads, committeeHeads },
      this.admin.signing,
    );
  }

  addUser(userId: string): void {
    this.appendUser(
      userId,
      'user-created',
      { tenantId: this.tenantId, userId, tenantPosition: this.tenantPosition },
      this.admin.signing,
    );
  }

  /** Enrols a device through the code flow; returns its keys (also under `devices[deviceId]`). */
  enrol(userId: string, deviceId: string, validity = 30 * day): DeviceKeys {
    const keys = generateDeviceKeys();
    const code = createEnrolmentCode(this.root.publicKey);
    const request = createEnrolmentRequest(
      code,
      { tenantId: this.tenantId, userId, deviceId },
      keys,
    );
    const chain = (this.users[userId] ??= []);
    chain.push(
      certifyEnrolledDevice(
        request,
        code,
        {
          issuedFor: { tenantId: this.tenantId, userId },
          notBefore: this.now,
          notAfter: this.now + validity,
          tenantPosition: this.tenantPosition,
          link: headOf(chain),
        },
        this.admin.signing,
      ),
    );
    this.devices[deviceId] = keys;
    return keys;
  }

  /**
   * `byDevice` confirms `deviceId` of `userId` (a device-confirmation in `userId`'s chain); with
   * `committeeId` as a staff device of that committee (another user's first device).
   */
  confirm(userId: string, deviceId: string, byDevice: string, committeeId?: string): void {
    this.appendUser(
      userId,
      'device-confirmation',
      {
        tenantId: this.tenantId,
        userId,
        deviceId,
        fingerprint: fingerprint((this.devices[deviceId] as DeviceKeys).signing.publicKey),
        tenantPosition: this.tenantPosition,
        committeeId: committeeId ?? null,
      },
      (this.devices[byDevice] as DeviceKeys).signing,
    );
  }

  trust(): TrustView {
    return TrustView.build({
      rootPin: this.code.rootPin,
      tenantChain: this.tenant,
      userChains: this.users,
    });
  }

  state(): CommitteeState {
    return CommitteeState.fold(this.trust(), this.committee);
  }

  createCommittee(): void {
    this.appendCommittee(
      'committee-created',
      {
        tenantId: this.tenantId,
        committeeId: this.committeeId,
        tenantPosition: this.tenantPosition,
      },
      this.admin.signing,
    );
  }

  /** Admin-signed addition; returns its link for a co-signature. */
  addMember(userId: string, role: CommitteeRole): { sequence: number; hash: Uint8Array } {
    const bytes = this.appendCommittee(
      'membership',
      {
        tenantId: this.tenantId,
        committeeId: this.committeeId,
        userId,
        change: 'add',
        role,
        tenantPosition: this.tenantPosition,
      },
      this.admin.signing,
    );
    const opened = openAnyRecord(bytes);
    return { sequence: opened.sequence, hash: opened.hash };
  }

  removeMember(userId: string): void {
    this.appendCommittee(
      'membership',
      {
        tenantId: this.tenantId,
        committeeId: this.committeeId,
        userId,
        change: 'remove',
        role: 'reader',
        tenantPosition: this.tenantPosition,
      },
      this.admin.signing,
    );
  }

  /** Admin-signed revocation of `deviceId` in `userId`'s chain, at the current tenant position. */
  revoke(userId: string, deviceId: string, chainOf: string = userId): void {
    this.appendUser(
      chainOf,
      'device-revocation',
      {
        tenantId: this.tenantId,
        userId: chainOf,
        deviceId,
        fingerprint: fingerprint((this.devices[deviceId] as DeviceKeys).signing.publicKey),
        tenantPosition: this.tenantPosition,
        reason: 'lost',
      },
      this.admin.signing,
    );
  }

  cosign(addition: { sequence: number; hash: Uint8Array }, byDevice: string): void {
    this.appendCommittee(
      'membership-cosignature',
      {
        tenantId: this.tenantId,
        committeeId: this.committeeId,
        membershipSequence: addition.sequence,
        membershipHash: addition.hash,
        tenantPosition: this.tenantPosition,
      },
      (this.devices[byDevice] as DeviceKeys).signing,
    );
  }

  startEpoch(byDevice: string, reason: EpochReason, previousKey: Uint8Array | null): Uint8Array {
    const { record, epochKey } = startEpoch(
      {
        trust: this.trust(),
        committee: this.state(),
        self: this.devices[byDevice] as DeviceKeys,
        now: this.now,
      },
      reason,
      previousKey,
    );
    this.committee.push(record);
    return epochKey;
  }

  wrapForNew(byDevice: string, epochKey: Uint8Array): boolean {
    const record = wrapForNewDevices(
      {
        trust: this.trust(),
        committee: this.state(),
        self: this.devices[byDevice] as DeviceKeys,
        now: this.now,
      },
      epochKey,
    );
    if (record !== undefined) this.committee.push(record);
    return record !== undefined;
  }

  /**
   * The standard scene: users alice (staff, device a1) and bob (reader, device b1), a committee
   * with both co-signed, a heartbeat, and epoch 0 started by a1. Returns epoch 0's key.
   */
  static async scene(): Promise<{ world: World; epoch0: Uint8Array }> {
    const world = await World.create();
    world.addUser('alice');
    world.enrol('alice', 'a1');
    world.addUser('bob');
    world.enrol('bob', 'b1');
    world.createCommittee();
    world.cosign(world.addMember('alice', 'staff'), 'a1');
    world.cosign(world.addMember('bob', 'reader'), 'a1');
    // a1 founded the committee; it confirms bob's first device as staff of it.
    world.confirm('bob', 'b1', 'a1', world.committeeId);
    world.heartbeat();
    const epoch0 = world.startEpoch('a1', 'initial', null);
    return { world, epoch0 };
  }
}
