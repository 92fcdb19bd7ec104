import type { ChainHead, CommitteeRole, RecordBodies, WrappedKey } from '@ratsfach/kernel';
import { linkChain } from '../chain/linkChain.js';
import { ChainError, CryptoErrorCode, EncodingError, KeyListError, TrustError } from '../errors.js';
import type { TrustView, CertifiedDevice } from '../identity/trustView.js';
import { firstSync, type DocumentJudging } from '../documents/documentState.js';
import { misplacedRecord, openAnyRecord, type OpenedRecord } from '../records/signedRecord.js';
import { constantTimeEqual } from '../hash.js';
import { requireConfirmedSigner } from './deviceConfirmation.js';

/** A member of a committee, as the admin-signed membership records say. */
export interface Member {
  readonly userId: string;
  readonly role: CommitteeRole;
  /** Whether a staff device co-signed the addition: only then are keys wrapped for them. */
  readonly cosigned: boolean;
  /** Sequence and hash of the membership record that added them. */
  readonly addedBy: RecordRef;
  /**
   * A role change to staff that no staff device has co-signed yet: until then the member keeps
   * the old role, so an admin cannot make its own user staff (and co-sign others) alone.
   */
  readonly pendingStaff: RecordRef | null;
}

/** A record of the committee chain, by position and hash. */
export interface RecordRef {
  readonly sequence: number;
  readonly hash: Uint8Array;
}

/** One key epoch as its records state it. */
export interface EpochState {
  readonly epoch: number;
  /** Position of the key-epoch record in the committee chain. */
  readonly sequence: number;
  readonly keyCommitment: Uint8Array;
  readonly previousKey: RecordBodies['key-epoch']['previousKey'];
  /** Wrapped keys by recipient fingerprint, from the key-epoch and epoch-keys records. */
  readonly wrapped: ReadonlyMap<string, WrappedKey>;
}

/** What held at one position of the committee chain (for judging document records). */
export interface CommitteeSnapshot {
  readonly keyHolders: ReadonlySet<string>;
  readonly staff: ReadonlySet<string>;
  readonly epoch: number;
}

const committeePurposes: ReadonlySet<string> = new Set([
  'committee-created',
  'membership',
  'membership-cosignature',
  'key-epoch',
  'epoch-keys',
  'retention',
  'legal-hold',
]);

const refuse = (code: string, message: string, details: Record<string, unknown> = {}): TrustError =>
  new TrustError(code as never, message, {
    hint: 'The committee chain is refused: a record is signed by a device not allowed to sign it.',
    details,
  });

/**
 * The fold of a committee's chain: who the members are (admin-signed membership records), whose
 * addition a staff device co-signed, the key epochs and wrapped keys (staff-signed), retention
 * and legal holds. Nothing else tells a device who is in a committee. Throws on the first
 * record that fails.
 */
export class CommitteeState {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly head: ChainHead;
  readonly hashes: readonly Uint8Array[];
  private readonly memberMap = new Map<string, Member>();
  private readonly epochMap = new Map<number, EpochState>();
  private readonly snapshots: CommitteeSnapshot[] = [];
  private readonly founderSet = new Set<string>();
  private current = -1;
  private hadStaff = false;
  private lastPosition = 0;
  /**
   * The retention rule, as the domain decides erasure: N days means a deleted document may be
   * erased once it has been deleted for N days; null means no rule (erasure at any time unless
   * a legal hold applies). Signed by an admin device or a staff device of the committee.
   */
  retentionDays: number | null = null;
  /** Active legal holds: `*` for the whole committee, else document ids. */
  readonly legalHolds = new Set<string>();

  private constructor(
    private readonly trust: TrustView,
    records: readonly OpenedRecord[],
    private readonly judging: DocumentJudging,
  ) {
    this.hashes = linkChain(records, 'committee');
    const first = records[0];
    if (first === undefined || first.purpose !== 'committee-created') {
      throw refuse(
        CryptoErrorCode.unauthorisedSigner,
        'a committee chain starts with committee-created',
      );
    }
    const created = first.body as RecordBodies['committee-created'];
    if (created.tenantId !== trust.tenantId) {
      throw refuse(
        CryptoErrorCode.untrustedKey,
        `committee ${created.committeeId} belongs to tenant ${created.tenantId}, not ${trust.tenantId}`,
        { tenantId: created.tenantId },
      );
    }
    this.tenantId = created.tenantId;
    this.committeeId = created.committeeId;
    for (const record of records) {
      this.fold(record);
      if (this.staff().length > 0) this.hadStaff = true;
      this.snapshots.push({
        keyHolders: new Set(this.keyHolders()),
        staff: new Set(this.staff()),
        epoch: this.current,
      });
    }
    this.head = { length: records.length, hash: this.hashes[records.length - 1] as Uint8Array };
  }

  /**
   * Folds a committee chain (stored bytes, from its first record) under `trust`. With `judging`
   * (FORMAT.md "Judging new records"), records from `judging.accepted` on are judged at tenant
   * positions no older than `judging.floor`: a revoked or expired staff or admin device cannot
   * add a key record, membership or co-signature by naming a position from before it lost its
   * rights. Without it (`firstSync`, the default) every record is judged where it says.
   */
  static fold(
    trust: TrustView,
    chain: readonly Uint8Array[],
    judging: DocumentJudging = firstSync,
  ): CommitteeState {
    return new CommitteeState(
      trust,
      chain.map((bytes) => openAnyRecord(bytes)),
      judging,
    );
  }

  get members(): ReadonlyMap<string, Member> {
    return this.memberMap;
  }

  /** Members whose addition a staff device co-signed: keys are wrapped for their devices. */
  keyHolders(): string[] {
    return [...this.memberMap.values()]
      .filter((m) => m.cosigned)
      .map((m) => m.userId)
      .sort();
  }

  /**
   * Fingerprints of the devices that accepted their own founding-staff addition (the bootstrap
   * co-signature, FORMAT.md "Device confirmation"): the roots from which device confirmations
   * count in this committee.
   */
  get founders(): ReadonlySet<string> {
    return this.founderSet;
  }

  /** Co-signed members with the staff role. */
  staff(): string[] {
    return [...this.memberMap.values()]
      .filter((m) => m.cosigned && m.role === 'staff')
      .map((m) => m.userId)
      .sort();
  }

  /** The current epoch number, or -1 before the first. */
  get currentEpoch(): number {
    return this.current;
  }

  epoch(epoch: number): EpochState | undefined {
    return this.epochMap.get(epoch);
  }

  /** The tenant position the newest record names: new records must name at least this. */
  get tenantPosition(): number {
    return this.lastPosition;
  }

  /** Length of the tenant chain of the trust view this state was folded under. */
  get trustHeadLength(): number {
    return this.trust.tenantHead.length;
  }

  /** What held once the chain had `length` records. */
  snapshotAt(length: number): CommitteeSnapshot | undefined {
    return this.snapshots[length - 1];
  }

  /**
   * Whether a new epoch is due: a key holder of the current epoch was removed, or one of the
   * devices holding its key is revoked or no longer a member's.
   */
  needsNewEpoch(): boolean {
    const current = this.epochMap.get(this.current);
    if (current === undefined) return true;
    const holders = new Set(this.keyHolders());
    for (const fp of current.wrapped.keys()) {
      const device = this.trust.device(fp);
      if (device === undefined || device.revokedAt !== undefined || !holders.has(device.userId)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The user device that signed `record`, if it is certified and valid at the tenant position the
   * record names and belongs to a staff member (per `snapshot`). Throws TrustError otherwise.
   */
  requireStaffDevice(
    record: OpenedRecord,
    position: number,
    staff: ReadonlySet<string>,
  ): CertifiedDevice {
    const device = this.trust.requireDeviceAt(record.signerFingerprint, position, 'user');
    if (!staff.has(device.userId)) {
      throw refuse(
        CryptoErrorCode.unauthorisedSigner,
        `${record.purpose} at ${record.sequence} is signed by ${device.userId}, not a staff member`,
        { userId: device.userId, sequence: record.sequence },
      );
    }
    return device;
  }

  /**
   * `requireStaffDevice`, and the device is confirmed for this committee in this device's view
   * (`requireConfirmedSigner`, with `staff` as the staff and without counting the folding
   * device itself): how key records and document records are judged (FORMAT.md "Device
   * confirmation"), so a device an admin certified alone for a staff member signs neither.
   */
  requireConfirmedStaffDevice(
    record: OpenedRecord,
    position: number,
    staff: ReadonlySet<string>,
  ): CertifiedDevice {
    const device = this.requireStaffDevice(record, position, staff);
    requireConfirmedSigner(
      this.trust,
      this,
      device.fingerprint,
      `${record.purpose} at ${record.sequence}`,
      staff,
    );
    return device;
  }

  /**
   * Throws TrustError unless the device with `fingerprintHex` is certified and valid at tenant
   * position `position` and belongs to a current co-signed staff member: checked before this
   * device signs an epoch or wraps keys, so it never produces a record the fold would refuse.
   */
  requireStaffSigner(fingerprintHex: string, position: number): CertifiedDevice {
    const device = this.trust.requireDeviceAt(fingerprintHex, position, 'user');
    if (!this.staff().includes(device.userId)) {
      throw refuse(
        CryptoErrorCode.unauthorisedSigner,
        `${device.userId} is not a staff member of ${this.committeeId}`,
        {
          userId: device.userId,
        },
      );
    }
    return device;
  }

  /**
   * `requireStaffSigner`, and the device is confirmed for this committee (without counting
   * itself): checked before this device signs a key record or writes a document record, so it
   * never signs one the fold would refuse (`requireConfirmedStaffDevice`).
   */
  requireConfirmedStaffSigner(
    fingerprintHex: string,
    position: number,
    what: string,
  ): CertifiedDevice {
    const device = this.requireStaffSigner(fingerprintHex, position);
    requireConfirmedSigner(this.trust, this, fingerprintHex, what);
    return device;
  }

  private fold(record: OpenedRecord): void {
    if (!committeePurposes.has(record.purpose)) throw misplacedRecord(record, 'a committee chain');
    const body = record.body as { tenantId: string; committeeId: string; tenantPosition: number };
    if (body.tenantId !== this.tenantId || body.committeeId !== this.committeeId) {
      throw refuse(CryptoErrorCode.unauthorisedSigner, `${record.purpose} names another committee`);
    }
    if (body.tenantPosition < this.lastPosition) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `committee record ${record.sequence} names tenant position ${body.tenantPosition}, older than ${this.lastPosition}`,
        { hint: 'A record may not be back-dated before its chain; refused.' },
      );
    }
    this.lastPosition = body.tenantPosition;
    // A record new to this device is judged no older than its floor (as document records are).
    const floor = record.sequence >= this.judging.accepted ? this.judging.floor : null;
    const position = Math.max(body.tenantPosition, floor?.tenantPosition ?? 0);
    if (position > this.trust.tenantHead.length) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `${record.purpose} at ${record.sequence} is judged at tenant position ${position}, beyond this device's tenant chain`,
        { hint: 'Sync the tenant chain, then verify again.', details: { position } },
      );
    }
    const staff = new Set(this.staff());
    switch (record.purpose) {
      case 'committee-created':
        if (record.sequence !== 0)
          throw refuse(CryptoErrorCode.unauthorisedSigner, 'committee created twice');
        this.trust.requireDeviceAt(record.signerFingerprint, position, 'admin');
        return;
      case 'membership': {
        this.trust.requireDeviceAt(record.signerFingerprint, position, 'admin');
        const m = record.body as RecordBodies['membership'];
        if (!this.trust.hasUser(m.userId)) {
          throw refuse(CryptoErrorCode.untrustedKey, `membership names unknown user ${m.userId}`);
        }
        const existing = this.memberMap.get(m.userId);
        const ref = { sequence: record.sequence, hash: record.hash };
        if (m.change === 'add') {
          if (existing !== undefined) {
            throw refuse(CryptoErrorCode.unauthorisedSigner, `${m.userId} is added twice`);
          }
          this.memberMap.set(m.userId, {
            userId: m.userId,
            role: m.role,
            cosigned: false,
            addedBy: ref,
            pendingStaff: null,
          });
        } else if (existing === undefined) {
          throw refuse(
            CryptoErrorCode.unauthorisedSigner,
            `${m.change} of ${m.userId}, who is not a member`,
          );
        } else if (m.change === 'remove') {
          this.memberMap.delete(m.userId);
        } else if (m.role === 'staff' && existing.role !== 'staff') {
          this.memberMap.set(m.userId, { ...existing, pendingStaff: ref });
        } else {
          this.memberMap.set(m.userId, { ...existing, role: m.role, pendingStaff: null });
        }
        return;
      }
      case 'membership-cosignature': {
        const c = record.body as RecordBodies['membership-cosignature'];
        const matches = (r: RecordRef | null): boolean =>
          r !== null &&
          r.sequence === c.membershipSequence &&
          constantTimeEqual(r.hash, c.membershipHash);
        const members = [...this.memberMap.values()];
        const addition = members.find((m) => !m.cosigned && matches(m.addedBy));
        const promotion = members.find((m) => matches(m.pendingStaff));
        const target = addition ?? promotion;
        if (target === undefined) {
          throw refuse(CryptoErrorCode.unauthorisedSigner, 'co-signature of no pending change');
        }
        // Bootstrap: while the committee never had a staff member, the first staff member's own
        // device accepts its addition. Once it had staff, only staff devices co-sign.
        const device = this.trust.requireDeviceAt(record.signerFingerprint, position, 'user');
        const becomesStaff = addition !== undefined ? target.role === 'staff' : true;
        const bootstrap = !this.hadStaff && becomesStaff && device.userId === target.userId;
        if (bootstrap) this.founderSet.add(device.fingerprint);
        else this.requireStaffDevice(record, position, staff);
        this.memberMap.set(
          target.userId,
          addition !== undefined
            ? { ...target, cosigned: true }
            : { ...target, role: 'staff', pendingStaff: null },
        );
        return;
      }
      case 'key-epoch': {
        this.requireConfirmedStaffDevice(record, position, staff);
        const e = record.body as RecordBodies['key-epoch'];
        if (e.epoch !== this.current + 1 || (e.epoch === 0) !== (e.previousKey === null)) {
          throw new EncodingError(
            CryptoErrorCode.malformed,
            `key epoch ${e.epoch} after ${this.current}, previous key ${e.previousKey === null ? 'missing' : 'present'}`,
            { hint: 'Epochs count up from 0; every later epoch seals its predecessor.' },
          );
        }
        const wrapped = this.checkWrappedKeys(e.wrappedKeys, position);
        this.epochMap.set(e.epoch, {
          epoch: e.epoch,
          sequence: record.sequence,
          keyCommitment: e.keyCommitment,
          previousKey: e.previousKey,
          wrapped,
        });
        this.current = e.epoch;
        return;
      }
      case 'epoch-keys': {
        this.requireConfirmedStaffDevice(record, position, staff);
        const k = record.body as RecordBodies['epoch-keys'];
        const epoch = this.epochMap.get(k.epoch);
        if (epoch === undefined || k.epoch !== this.current) {
          throw refuse(
            CryptoErrorCode.unauthorisedSigner,
            `keys for epoch ${k.epoch}, current is ${this.current}`,
          );
        }
        const added = this.checkWrappedKeys(k.wrappedKeys, position);
        this.epochMap.set(k.epoch, { ...epoch, wrapped: new Map([...epoch.wrapped, ...added]) });
        return;
      }
      case 'retention': {
        const device = this.trust.device(record.signerFingerprint);
        if (device?.kind === 'admin')
          this.trust.requireDeviceAt(record.signerFingerprint, position, 'admin');
        else this.requireStaffDevice(record, position, staff);
        this.retentionDays = (record.body as RecordBodies['retention']).retentionDays;
        return;
      }
      case 'legal-hold': {
        this.trust.requireDeviceAt(record.signerFingerprint, position, 'admin');
        const h = record.body as RecordBodies['legal-hold'];
        const key = h.documentId ?? '*';
        if (h.active) this.legalHolds.add(key);
        else this.legalHolds.delete(key);
        return;
      }
      default:
        throw misplacedRecord(record, 'a committee chain');
    }
  }

  /**
   * A key list is accepted only if it is not empty and every recipient is a certified, unrevoked
   * device of a co-signed member at the record's position.
   */
  private checkWrappedKeys(keys: readonly WrappedKey[], position: number): Map<string, WrappedKey> {
    if (keys.length === 0) {
      throw new KeyListError(CryptoErrorCode.emptyKeyList, 'a key record with an empty key list', {
        hint: 'An empty key list never means "no encryption"; the record is refused.',
      });
    }
    const holders = new Set(this.keyHolders());
    const out = new Map<string, WrappedKey>();
    for (const key of keys) {
      const device = this.trust.requireDeviceAt(key.recipient, position, 'user');
      if (!holders.has(device.userId)) {
        throw refuse(
          CryptoErrorCode.untrustedKey,
          `a key wrapped for ${device.userId}, who is not a co-signed member`,
          { userId: device.userId },
        );
      }
      out.set(key.recipient, key);
    }
    return out;
  }
}
