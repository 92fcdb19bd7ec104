import type { EpochReason, WrappedKey } from '@ratsfach/kernel';
import { CryptoErrorCode, KeyListError } from '../errors.js';
import type { CertifiedDevice, TrustView } from '../identity/trustView.js';
import type { DeviceKeys } from '../keys/deviceKeys.js';
import { fingerprint } from '../keys/fingerprint.js';
import { signRecord } from '../records/signedRecord.js';
import type { CommitteeState } from './committeeState.js';
import {
  epochKeyCommitment,
  generateEpochKey,
  openPreviousEpochKey,
  requireEpochKeyCommitment,
  sealPreviousEpochKey,
  unwrapEpochKey,
  wrapEpochKey,
  type EpochRef,
} from './epochKeyWrap.js';
import { requireHeadsReached, defaultStalenessSeconds } from './staleness.js';
import { zeroizeKeys } from '../keys/zeroize.js';
import { splitConfirmed } from './deviceConfirmation.js';

/** What a staff device needs to wrap keys: the folded state, its keys and its clock. */
export interface WrapContext {
  readonly trust: TrustView;
  readonly committee: CommitteeState;
  /** This (staff) device's keys. */
  readonly self: DeviceKeys;
  /** This device's clock, Unix seconds: used only for the staleness bound. */
  readonly now: number;
  readonly stalenessSeconds?: number;
}

const wrapAll = (ref: EpochRef, key: Uint8Array, all: readonly CertifiedDevice[]): WrappedKey[] => {
  const recipients = all.filter((d) => d.usableKemKey);
  if (recipients.length === 0) {
    throw new KeyListError(CryptoErrorCode.emptyKeyList, 'no device to wrap the epoch key for', {
      hint: 'Every key holder needs a certified device named by the newest heartbeat.',
    });
  }
  return recipients.map((device) =>
    wrapEpochKey(ref, key, { fingerprint: device.fingerprint, kemKey: device.kemKey }),
  );
};

/**
 * Starts a new epoch: a fresh key, wrapped for every confirmed (`confirmedDevices`) certified
 * device (valid at the newest admin heartbeat's heads) of every co-signed member, sealing the
 * previous epoch's key. Refuses when the committee state is stale, and with TrustError
 * `signerNotConfirmed` when this device is not itself confirmed for the committee. Returns the signed key-epoch
 * record, the new key, and the devices left out (unusable key; not yet confirmed).
 */
export function startEpoch(
  context: WrapContext,
  reason: EpochReason,
  previousKey: Uint8Array | null,
): {
  readonly record: Uint8Array;
  readonly epochKey: Uint8Array;
  /** Recipients with an unusable X-Wing key, skipped: show them to the user and the admin. */
  readonly skipped: readonly CertifiedDevice[];
  /** Certified devices nobody confirmed yet, left out: show them as waiting for confirmation. */
  readonly unconfirmed: readonly CertifiedDevice[];
} {
  const { trust, committee } = context;
  const self = fingerprint(context.self.signing.publicKey);
  const { confirmed: recipients, unconfirmed } = splitConfirmed(
    trust,
    committee,
    requireHeadsReached(
      trust,
      committee,
      context.now,
      context.stalenessSeconds ?? defaultStalenessSeconds,
    ),
    self,
  );
  committee.requireConfirmedStaffSigner(self, trust.tenantHead.length, 'this key record');
  const ref: EpochRef = {
    tenantId: committee.tenantId,
    committeeId: committee.committeeId,
    epoch: committee.currentEpoch + 1,
  };
  const epochKey = generateEpochKey();
  const wrappedKeys = wrapAll(ref, epochKey, recipients);
  const record = signRecord(
    'key-epoch',
    { sequence: committee.head.length, previousHash: committee.head.hash },
    {
      tenantId: ref.tenantId,
      committeeId: ref.committeeId,
      epoch: ref.epoch,
      reason,
      tenantPosition: trust.tenantHead.length,
      keyCommitment: epochKeyCommitment(ref, epochKey),
      previousKey: previousKey === null ? null : sealPreviousEpochKey(ref, epochKey, previousKey),
      wrappedKeys,
    },
    context.self.signing,
  );
  return { record, epochKey, skipped: recipients.filter((d) => !d.usableKemKey), unconfirmed };
}

/**
 * Wraps the current epoch key for confirmed certified member devices that lack it (a newly
 * confirmed device, a newly co-signed member). Returns the signed epoch-keys record, or
 * undefined when every confirmed device has the key. Refuses when the committee state is stale,
 * and with TrustError `signerNotConfirmed` when this device is not itself confirmed.
 * Devices waiting for confirmation are left out (`splitConfirmed` names them).
 */
export function wrapForNewDevices(
  context: WrapContext,
  epochKey: Uint8Array,
): Uint8Array | undefined {
  const { trust, committee } = context;
  const self = fingerprint(context.self.signing.publicKey);
  const { confirmed: recipients } = splitConfirmed(
    trust,
    committee,
    requireHeadsReached(
      trust,
      committee,
      context.now,
      context.stalenessSeconds ?? defaultStalenessSeconds,
    ),
    self,
  );
  committee.requireConfirmedStaffSigner(self, trust.tenantHead.length, 'this key record');
  const epoch = committee.epoch(committee.currentEpoch);
  if (epoch === undefined) {
    throw new KeyListError(CryptoErrorCode.noWrappedKey, 'the committee has no epoch yet');
  }
  const ref: EpochRef = {
    tenantId: committee.tenantId,
    committeeId: committee.committeeId,
    epoch: epoch.epoch,
  };
  requireEpochKeyCommitment(ref, epochKey, epoch.keyCommitment);
  const missing = recipients.filter((d) => d.usableKemKey && !epoch.wrapped.has(d.fingerprint));
  if (missing.length === 0) return undefined;
  return signRecord(
    'epoch-keys',
    { sequence: committee.head.length, previousHash: committee.head.hash },
    {
      tenantId: ref.tenantId,
      committeeId: ref.committeeId,
      epoch: ref.epoch,
      tenantPosition: trust.tenantHead.length,
      wrappedKeys: missing.map((d) =>
        wrapEpochKey(ref, epochKey, { fingerprint: d.fingerprint, kemKey: d.kemKey }),
      ),
    },
    context.self.signing,
  );
}

/**
 * Opens every epoch key this device can reach: the newest epoch with a key wrapped for it, then
 * each predecessor through the key sealed in its successor's record; each checked against its
 * commitment. Throws KeyListError `noWrappedKey` when no epoch holds a key for this device.
 */
export function openEpochKeys(
  committee: CommitteeState,
  self: DeviceKeys,
): Map<number, Uint8Array> {
  const me = fingerprint(self.signing.publicKey);
  const keys = new Map<number, Uint8Array>();
  try {
    return openReachableKeys(committee, self, me, keys);
  } catch (error) {
    // A key that fails its commitment, or any later failure: no opened key outlives the throw.
    zeroizeKeys(keys);
    throw error;
  }
}

function openReachableKeys(
  committee: CommitteeState,
  self: DeviceKeys,
  me: string,
  keys: Map<number, Uint8Array>,
): Map<number, Uint8Array> {
  for (let epoch = committee.currentEpoch; epoch >= 0; epoch--) {
    const state = committee.epoch(epoch);
    const wrapped = state?.wrapped.get(me);
    if (state === undefined || wrapped === undefined) continue;
    const ref = { tenantId: committee.tenantId, committeeId: committee.committeeId, epoch };
    let key = unwrapEpochKey(ref, wrapped, { fingerprint: me, kem: self.kem });
    keys.set(epoch, key);
    requireEpochKeyCommitment(ref, key, state.keyCommitment);
    for (let older = epoch; older > 0; older--) {
      const olderState = committee.epoch(older);
      const sealed = olderState?.previousKey;
      if (sealed === null || sealed === undefined) break;
      const olderRef = { ...ref, epoch: older - 1 };
      key = openPreviousEpochKey({ ...ref, epoch: older }, key, sealed);
      keys.set(older - 1, key);
      requireEpochKeyCommitment(
        olderRef,
        key,
        (committee.epoch(older - 1) as { keyCommitment: Uint8Array }).keyCommitment,
      );
    }
    return keys;
  }
  throw new KeyListError(
    CryptoErrorCode.noWrappedKey,
    'no epoch of this committee holds a key for this device',
    {
      hint: 'Ask a staff device to wrap the current key for this device (it must be a co-signed member).',
    },
  );
}

/** The key of `epoch` among `keys`, or KeyListError `noWrappedKey` (a removed member's later epochs). */
export function requireEpochKey(keys: ReadonlyMap<number, Uint8Array>, epoch: number): Uint8Array {
  const key = keys.get(epoch);
  if (key === undefined) {
    throw new KeyListError(
      CryptoErrorCode.noWrappedKey,
      `this device holds no key for epoch ${epoch}`,
      {
        hint: 'This device is not a key holder of that epoch.',
      },
    );
  }
  return key;
}
