import type { ChainHead, RecordBodies } from '@ratsfach/kernel';
import { linkChain } from '../chain/linkChain.js';
import { ChainError, CryptoErrorCode, StaleCommitteeStateError, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import { fingerprint } from '../keys/fingerprint.js';
import { misplacedRecord, openAnyRecord, type OpenedRecord } from '../records/signedRecord.js';
import { requirePinnedRoot } from './enrolmentCode.js';
import { isUsableKemKey } from '../committee/epochKeyWrap.js';

/** A device certified by the root (admin) or by an admin device (user device). */
export interface CertifiedDevice {
  readonly kind: 'admin' | 'user';
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
  readonly signingKey: Uint8Array;
  readonly kemKey: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Tenant position from which the certificate counts. */
  readonly certifiedAt: number;
  /** Position in the user's chain of the certificate (user devices); -1 for admin devices. */
  readonly userSequence: number;
  /** Tenant position from which the device counts as revoked, if revoked. */
  readonly revokedAt: number | undefined;
  /** Position in the user's chain of the revocation (user devices). */
  readonly revokedUserSequence: number | undefined;
  /** Whether its X-Wing key encapsulates: an unusable one is skipped (and reported) when wrapping. */
  readonly usableKemKey: boolean;
}

/**
 * A `device-confirmation` record the trust view accepted (FORMAT.md "Device confirmation"):
 * `signerFingerprint` vouches for the device `fingerprint` of user `userId`. With `committeeId`
 * null the signer is another device of the same user; otherwise it is another user's device
 * confirming the user's first device as a staff member of that committee (which only the
 * committee's state can judge: `confirmedDevices`).
 */
export interface DeviceConfirmation {
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
  readonly signerFingerprint: string;
  readonly signerUserId: string;
  readonly committeeId: string | null;
  readonly tenantPosition: number;
  /** Position of the record in the user's chain. */
  readonly userSequence: number;
}

/** The newest admin heartbeat in the tenant chain. */
export interface HeartbeatState {
  readonly sequence: number;
  readonly time: number;
  readonly signerFingerprint: string;
  readonly userHeads: Readonly<Record<string, Uint8Array>>;
  readonly committeeHeads: Readonly<Record<string, ChainHead>>;
}

/**
 * Where a device judges records new to it (FORMAT.md "Judging new records"): the tenant position
 * just after the newest admin heartbeat it had verified at its last complete sync, and the
 * committee head that heartbeat names. The device stores it with its seen heads.
 */
export interface JudgingFloor {
  readonly tenantPosition: number;
  readonly committeeLength: number;
}

/** The chains a device folds into its view of who is who. */
export interface TrustInput {
  /** The root pin from the enrolment code (first 20 bytes of the root's fingerprint). */
  readonly rootPin: Uint8Array;
  /** The tenant chain, from its first record. */
  readonly tenantChain: readonly Uint8Array[];
  /** Every user's chain, from its first record, by user id. */
  readonly userChains: Readonly<Record<string, readonly Uint8Array[]>>;
}

const userPurposes: ReadonlySet<string> = new Set([
  'user-created',
  'device-certificate',
  'device-revocation',
  'heads-seen',
  'device-confirmation',
]);

const untrusted = (code: string, message: string, details: Record<string, unknown>): TrustError =>
  new TrustError(code as never, message, {
    hint: 'The record is refused: its signer is not vouched for by the pinned root at that position.',
    details,
  });

/**
 * Who is who, folded from the tenant chain and the users' chains, trusting only the pinned
 * root. Certificate validity is judged at the tenant position a record names (`tenantPosition`,
 * or its own position in the tenant chain): the time at a position is the newest admin
 * heartbeat before it, never today's date. Throws on the first record that fails.
 */
export class TrustView {
  readonly tenantId: string;
  readonly rootKey: Uint8Array;
  readonly tenantHead: ChainHead;
  /** Hashes of the tenant chain by position. */
  readonly tenantHashes: readonly Uint8Array[];
  /** Hashes of every user chain by position. */
  readonly userHashes: ReadonlyMap<string, readonly Uint8Array[]>;
  private readonly times: number[] = [];
  private readonly devices = new Map<string, CertifiedDevice>();
  private readonly users = new Set<string>();
  private readonly confirmationList: DeviceConfirmation[] = [];
  /** Confirmations to judge once every user chain is folded (their signer may be in a later one). */
  private readonly pendingConfirmations: { userId: string; record: OpenedRecord }[] = [];
  private heartbeat: HeartbeatState | undefined;
  /** Every counted heartbeat, oldest first: what they name orders records across user chains. */
  private readonly heartbeats: HeartbeatState[] = [];

  private constructor(input: TrustInput) {
    const tenant = input.tenantChain.map((bytes) => openAnyRecord(bytes));
    this.tenantHashes = linkChain(tenant, 'tenant');
    const first = tenant[0];
    if (first === undefined || first.purpose !== 'tenant-created') {
      throw untrusted(
        CryptoErrorCode.untrustedRoot,
        'the tenant chain does not start with its root',
        {},
      );
    }
    requirePinnedRoot(input.rootPin, first.signerKey);
    this.rootKey = first.signerKey;
    const created = first.body as RecordBodies['tenant-created'];
    this.tenantId = created.tenantId;
    this.times.push(created.createdAt);
    for (const record of tenant.slice(1)) this.foldTenant(record);
    this.tenantHead = {
      length: tenant.length,
      hash: this.tenantHashes[tenant.length - 1] as Uint8Array,
    };
    const userHashes = new Map<string, readonly Uint8Array[]>();
    for (const userId of Object.keys(input.userChains).sort()) {
      const records = (input.userChains[userId] ?? []).map((bytes) => openAnyRecord(bytes));
      userHashes.set(userId, linkChain(records, `user ${userId}`));
      this.foldUser(userId, records);
    }
    this.userHashes = userHashes;
    for (const { userId, record } of this.pendingConfirmations) this.confirm(userId, record);
  }

  /** Folds the chains; throws TrustError, ChainError or a codec error on the first bad record. */
  static build(input: TrustInput): TrustView {
    return new TrustView(input);
  }

  /** The time at tenant position `position`: of the newest heartbeat before it. */
  timeAt(position: number): number {
    if (position < 1 || position > this.times.length) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `tenant position ${position} is outside the known tenant chain (1..${this.times.length})`,
        { hint: 'Sync the tenant chain, then verify again.', details: { position } },
      );
    }
    return this.times[position - 1] as number;
  }

  /** The newest admin heartbeat, if any. */
  get latestHeartbeat(): HeartbeatState | undefined {
    return this.heartbeat;
  }

  /**
   * The judging floor for `committeeId` this view gives: store it when a sync of the committee
   * and its documents completes, and pass it to `DocumentState.fold` at the next sync. Without a
   * heartbeat, or for a committee the newest heartbeat does not name, the floor is the start.
   */
  judgingFloor(committeeId: string): JudgingFloor {
    const heartbeat = this.heartbeat;
    if (heartbeat === undefined) return { tenantPosition: 0, committeeLength: 0 };
    return {
      tenantPosition: heartbeat.sequence + 1,
      committeeLength: heartbeat.committeeHeads[committeeId]?.length ?? 0,
    };
  }

  /** A certified device by fingerprint (whatever its validity), or undefined. */
  device(fingerprintHex: string): CertifiedDevice | undefined {
    return this.devices.get(fingerprintHex);
  }

  /** Every device ever certified for `userId`, so a user can see each new one. */
  devicesOf(userId: string): CertifiedDevice[] {
    return [...this.devices.values()].filter((d) => d.kind === 'user' && d.userId === userId);
  }

  /**
   * Every device confirmation in the users' chains, each checked as far as the user chains
   * allow: signer valid at the position it names and not revoked before it in its own chain,
   * target a device of that user certified earlier in the chain, a signer of the same user
   * naming no committee, a signer of another user naming one and confirming the user's first
   * device. Whether a staff confirmation counts for a committee is `confirmedDevices`'s call.
   */
  get confirmations(): readonly DeviceConfirmation[] {
    return this.confirmationList;
  }

  /** Whether `userId` has a user chain started by an admin. */
  hasUser(userId: string): boolean {
    return this.users.has(userId);
  }

  /**
   * The device with `fingerprintHex`, if it is certified, of `kind`, not revoked, and within its
   * validity at tenant position `position`. Throws TrustError naming what failed.
   */
  requireDeviceAt(
    fingerprintHex: string,
    position: number,
    kind: 'admin' | 'user',
  ): CertifiedDevice {
    const device = this.devices.get(fingerprintHex);
    const details = { fingerprint: fingerprintHex, position, kind };
    if (device === undefined || device.kind !== kind || device.certifiedAt > position) {
      throw untrusted(
        CryptoErrorCode.untrustedKey,
        `no ${kind} device certificate for this key`,
        details,
      );
    }
    if (device.revokedAt !== undefined && device.revokedAt < position) {
      throw untrusted(
        CryptoErrorCode.revoked,
        `${kind} device ${device.deviceId} is revoked`,
        details,
      );
    }
    const time = this.timeAt(position);
    if (time < device.notBefore || time > device.notAfter) {
      throw untrusted(
        CryptoErrorCode.certificateNotValid,
        `${kind} device ${device.deviceId} is outside its validity at position ${position}`,
        { ...details, time, notBefore: device.notBefore, notAfter: device.notAfter },
      );
    }
    return device;
  }

  /**
   * The devices to wrap keys for, for the members `userIds`: those of each member's user chain
   * up to the head the newest admin heartbeat names, unrevoked there and valid at the
   * heartbeat's time. Throws StaleCommitteeStateError when there is no heartbeat, when it does
   * not name a member, or when this device has not seen the head it names.
   */
  recipientsAt(userIds: readonly string[]): CertifiedDevice[] {
    const heartbeat = this.heartbeat;
    if (heartbeat === undefined) {
      throw new StaleCommitteeStateError('no admin heartbeat in the tenant chain');
    }
    const out: CertifiedDevice[] = [];
    for (const userId of [...userIds].sort()) {
      const named = heartbeat.userHeads[userId];
      const hashes = this.userHashes.get(userId) ?? [];
      const length =
        named === undefined ? -1 : hashes.findIndex((h) => constantTimeEqual(h, named)) + 1;
      if (length <= 0) {
        throw new StaleCommitteeStateError(
          `the newest heartbeat does not name a user-chain head of ${userId} this device knows`,
          { details: { userId } },
        );
      }
      for (const device of this.devicesOf(userId)) {
        if (device.userSequence >= length) continue;
        // Revoked anywhere this device's view reaches, also past the named head.
        if (device.revokedAt !== undefined) continue;
        if (heartbeat.time < device.notBefore || heartbeat.time > device.notAfter) continue;
        out.push(device);
      }
    }
    return out;
  }

  private foldTenant(record: OpenedRecord): void {
    const position = record.sequence;
    let time = this.times[position - 1] as number;
    switch (record.purpose) {
      case 'admin-device-certificate': {
        this.requireRoot(record);
        const body = record.body as RecordBodies['admin-device-certificate'];
        this.requireTenant(body.tenantId, record);
        this.addDevice({
          kind: 'admin',
          userId: body.userId,
          deviceId: body.deviceId,
          fingerprint: fingerprint(body.signingKey),
          signingKey: body.signingKey,
          kemKey: body.kemKey,
          notBefore: body.notBefore,
          notAfter: body.notAfter,
          certifiedAt: position + 1,
          userSequence: -1,
          revokedAt: undefined,
          revokedUserSequence: undefined,
          usableKemKey: isUsableKemKey(body.kemKey),
        });
        break;
      }
      case 'admin-device-revocation': {
        this.requireRoot(record);
        const body = record.body as RecordBodies['admin-device-revocation'];
        this.requireTenant(body.tenantId, record);
        this.revoke(body.fingerprint, 'admin', position, undefined);
        break;
      }
      case 'heartbeat': {
        const body = record.body as RecordBodies['heartbeat'];
        this.requireTenant(body.tenantId, record);
        const admin = this.requireDeviceAt(record.signerFingerprint, position, 'admin');
        // A heartbeat dated outside its signer's validity (a clock far ahead) does not count.
        // Heartbeat times may go back: a future-dated heartbeat must never make the chain
        // refuse the honest ones after it; it only counts as stale (requireFresh) until the next.
        if (body.time < admin.notBefore || body.time > admin.notAfter) break;
        time = body.time;
        this.heartbeat = {
          sequence: position,
          time,
          signerFingerprint: record.signerFingerprint,
          userHeads: body.userHeads,
          committeeHeads: body.committeeHeads,
        };
        this.heartbeats.push(this.heartbeat);
        break;
      }
      case 'checkpoint-countersignature': {
        const body = record.body as RecordBodies['checkpoint-countersignature'];
        this.requireTenant(body.tenantId, record);
        this.requireDeviceAt(record.signerFingerprint, position, 'admin');
        break;
      }
      default:
        throw misplacedRecord(record, 'the tenant chain');
    }
    this.times.push(time);
  }

  private foldUser(userId: string, records: readonly OpenedRecord[]): void {
    let lastPosition = 0;
    for (const record of records) {
      if (!userPurposes.has(record.purpose))
        throw misplacedRecord(record, `the chain of user ${userId}`);
      const body = record.body as { tenantId?: string; userId?: string; tenantPosition?: number };
      this.requireTenant(body.tenantId ?? '', record);
      const position = body.tenantPosition ?? -1;
      if (body.userId !== userId || position < lastPosition) {
        throw new ChainError(
          CryptoErrorCode.chainBroken,
          `user ${userId}: record ${record.sequence} names another user or an older tenant position`,
          { hint: 'The user chain is refused.', details: { userId, sequence: record.sequence } },
        );
      }
      lastPosition = position;
      if (record.sequence === 0 && record.purpose !== 'user-created') {
        throw untrusted(
          CryptoErrorCode.unauthorisedSigner,
          `user ${userId}: chain does not start with user-created`,
          { userId },
        );
      }
      switch (record.purpose) {
        case 'user-created':
          if (record.sequence !== 0) {
            throw untrusted(CryptoErrorCode.unauthorisedSigner, 'user-created after the start', {
              userId,
            });
          }
          this.requireDeviceAt(record.signerFingerprint, position, 'admin');
          this.users.add(userId);
          break;
        case 'device-certificate': {
          this.requireDeviceAt(record.signerFingerprint, position, 'admin');
          const cert = record.body as RecordBodies['device-certificate'];
          this.addDevice({
            kind: 'user',
            userId,
            deviceId: cert.deviceId,
            fingerprint: fingerprint(cert.signingKey),
            signingKey: cert.signingKey,
            kemKey: cert.kemKey,
            notBefore: cert.notBefore,
            notAfter: cert.notAfter,
            certifiedAt: position,
            userSequence: record.sequence,
            revokedAt: undefined,
            revokedUserSequence: undefined,
            usableKemKey: isUsableKemKey(cert.kemKey),
          });
          break;
        }
        case 'device-revocation': {
          this.requireDeviceAt(record.signerFingerprint, position, 'admin');
          const revocation = record.body as RecordBodies['device-revocation'];
          this.revoke(revocation.fingerprint, 'user', position, record.sequence, userId);
          break;
        }
        case 'heads-seen': {
          const device = this.requireDeviceAt(record.signerFingerprint, position, 'user');
          const seen = record.body as RecordBodies['heads-seen'];
          if (device.userId !== userId || seen.deviceId !== device.deviceId) {
            throw untrusted(
              CryptoErrorCode.unauthorisedSigner,
              'heads-seen signed by another user',
              { userId },
            );
          }
          break;
        }
        case 'device-confirmation':
          // Judged after every user chain is folded: a staff signer's certificate may sit in a
          // user chain folded later.
          this.pendingConfirmations.push({ userId, record });
          break;
        default:
          throw misplacedRecord(record, `the chain of user ${userId}`);
      }
    }
  }

  /**
   * Judges one `device-confirmation` of `userId`'s chain (FORMAT.md "Device confirmation") and
   * keeps it. Throws TrustError naming the rule it breaks.
   */
  private confirm(userId: string, record: OpenedRecord): void {
    const body = record.body as RecordBodies['device-confirmation'];
    const target = this.devices.get(body.fingerprint);
    const details = { userId, deviceId: body.deviceId, sequence: record.sequence };
    if (
      target === undefined ||
      target.kind !== 'user' ||
      target.userId !== userId ||
      target.deviceId !== body.deviceId ||
      target.userSequence > record.sequence
    ) {
      throw untrusted(
        CryptoErrorCode.untrustedKey,
        `device-confirmation of a device not certified earlier in the chain of ${userId}`,
        details,
      );
    }
    const signer = this.requireDeviceAt(record.signerFingerprint, body.tenantPosition, 'user');
    if (signer.fingerprint === target.fingerprint) {
      throw untrusted(
        CryptoErrorCode.unauthorisedSigner,
        'a device cannot confirm itself',
        details,
      );
    }
    if (signer.userId === userId) {
      // A revocation earlier in this very chain ends the device's right to confirm, whatever
      // tenant position the confirmation names.
      if (
        signer.revokedUserSequence !== undefined &&
        signer.revokedUserSequence < record.sequence
      ) {
        throw untrusted(
          CryptoErrorCode.revoked,
          `device ${signer.deviceId} confirms after its revocation`,
          details,
        );
      }
      if (body.committeeId !== null) {
        throw untrusted(
          CryptoErrorCode.unauthorisedSigner,
          "a confirmation by the user's own device names no committee",
          details,
        );
      }
    } else {
      if (body.committeeId === null) {
        throw untrusted(
          CryptoErrorCode.unauthorisedSigner,
          `${signer.userId} confirms a device of ${userId} without naming the committee it is staff of`,
          details,
        );
      }
      // Only a user's first device: every device certified before it was revoked before it. A
      // later device is the user's own devices' to confirm, so the user sees every new one.
      const earlier = this.devicesOf(userId).filter(
        (d) =>
          d.userSequence < target.userSequence &&
          (d.revokedUserSequence === undefined || d.revokedUserSequence > target.userSequence),
      );
      if (earlier.length > 0) {
        throw untrusted(
          CryptoErrorCode.unauthorisedSigner,
          `${signer.userId} confirms ${userId}'s device ${target.deviceId}, which is not ${userId}'s first device`,
          { ...details, earlier: earlier.map((d) => d.deviceId) },
        );
      }
      // The signer's revocation sits in another chain, so the position the confirmation names
      // (which its signer picks) cannot show it came before. A heartbeat can show it came after.
      if (this.namedAfterRevocation(signer, userId, record.sequence)) {
        throw untrusted(
          CryptoErrorCode.revoked,
          `device ${signer.deviceId} confirms ${userId}'s device ${target.deviceId} after its revocation`,
          details,
        );
      }
    }
    this.confirmationList.push({
      userId,
      deviceId: target.deviceId,
      fingerprint: target.fingerprint,
      signerFingerprint: signer.fingerprint,
      signerUserId: signer.userId,
      committeeId: body.committeeId,
      tenantPosition: body.tenantPosition,
      userSequence: record.sequence,
    });
  }

  /**
   * Whether a heartbeat names a head of `signer`'s user chain that contains its revocation and a
   * head of `userId`'s chain that does not yet contain the record at `sequence`: proof that the
   * record was appended after the revocation, whatever position it names.
   */
  private namedAfterRevocation(signer: CertifiedDevice, userId: string, sequence: number): boolean {
    const revoked = signer.revokedUserSequence;
    if (revoked === undefined) return false;
    // A head this view does not hold (a longer chain than ours) proves nothing either way.
    return this.heartbeats.some(
      (h) =>
        (this.namedLength(signer.userId, h.userHeads[signer.userId]) ?? 0) > revoked &&
        (this.namedLength(userId, h.userHeads[userId]) ?? Infinity) <= sequence,
    );
  }

  /**
   * The length of `userId`'s chain at the head `hash` a heartbeat names: 0 when it names none
   * (the chain did not exist yet), undefined when this view holds no such head.
   */
  private namedLength(userId: string, hash: Uint8Array | undefined): number | undefined {
    if (hash === undefined) return 0;
    const at = (this.userHashes.get(userId) ?? []).findIndex((h) => constantTimeEqual(h, hash));
    return at < 0 ? undefined : at + 1;
  }

  private requireRoot(record: OpenedRecord): void {
    if (!constantTimeEqual(record.signerKey, this.rootKey)) {
      throw untrusted(
        CryptoErrorCode.untrustedKey,
        `${record.purpose} at ${record.sequence} is not signed by the pinned root`,
        { position: record.sequence },
      );
    }
  }

  private requireTenant(tenantId: string, record: OpenedRecord): void {
    if (tenantId !== this.tenantId) {
      throw untrusted(CryptoErrorCode.untrustedKey, `${record.purpose} names another tenant`, {
        tenantId,
      });
    }
  }

  private addDevice(device: CertifiedDevice): void {
    const existing = this.devices.get(device.fingerprint);
    // A renewal keeps the key: it extends validity, and a revoked key stays revoked.
    if (existing !== undefined) {
      // A renewal carrying another KEM key is refused: silently keeping the old one would wrap
      // keys to a key the admin meant to replace. A new KEM key means a new enrolment.
      if (
        existing.userId !== device.userId ||
        existing.kind !== device.kind ||
        existing.deviceId !== device.deviceId ||
        !constantTimeEqual(existing.kemKey, device.kemKey) ||
        existing.revokedAt !== undefined
      ) {
        throw untrusted(
          CryptoErrorCode.untrustedKey,
          'a key certified twice for different owners, devices or KEM keys, or after revocation',
          {
            fingerprint: device.fingerprint,
          },
        );
      }
      this.devices.set(device.fingerprint, {
        ...existing,
        notBefore: Math.min(existing.notBefore, device.notBefore),
        notAfter: Math.max(existing.notAfter, device.notAfter),
      });
      return;
    }
    this.devices.set(device.fingerprint, device);
  }

  private revoke(
    fp: string,
    kind: 'admin' | 'user',
    at: number,
    userSequence: number | undefined,
    userId?: string,
  ): void {
    const device = this.devices.get(fp);
    // A user device is revoked only in its own user's chain, so an admin device cannot hide a
    // revocation in a chain the heartbeat-named heads of the device's user do not cover.
    if (
      device === undefined ||
      device.kind !== kind ||
      (userId !== undefined && device.userId !== userId)
    ) {
      throw untrusted(
        CryptoErrorCode.untrustedKey,
        'revocation of a device unknown in this chain',
        { fingerprint: fp, userId },
      );
    }
    if (device.revokedAt === undefined) {
      this.devices.set(fp, { ...device, revokedAt: at, revokedUserSequence: userSequence });
    }
  }
}
