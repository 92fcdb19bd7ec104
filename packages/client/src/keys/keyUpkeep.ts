import { submitRecord } from '@ratsfach/api-contract';
import {
  CommitteeState,
  confirmedDevices,
  fingerprint,
  KeyListError,
  CryptoErrorCode,
  openEpochKeys,
  startEpoch,
  wrapForNewDevices,
  zeroize,
  zeroizeKeys,
  type CertifiedDevice,
  type TrustView,
} from '@ratsfach/crypto';
import { ConflictError, type EpochReason } from '@ratsfach/kernel';
import { awaitProjection, projectionWaitMs, unixSeconds } from '../admin/adminSession.js';
import { describeError, type DescribedError } from '../cli/output.js';
import { ApiProblemError, type ApiClient } from '../http/apiClient.js';
import {
  recipientsOfKeyRecord,
  startKeyEpochCommand,
  wrapEpochKeysCommand,
} from '../records/keyRecords.js';
import type { ChainSource } from '../sync/syncOnce.js';
import { foldCommittees, type CommitteeView, type KeyDevice } from './committeeViews.js';
import { KeysErrorCode } from './keysErrorCode.js';
import { keyReportLines } from './keyReportLines.js';
import { knownCommittees } from './knownCommittees.js';
import type { LocalState } from '../ports/localState.js';

/** A device as the key work shows it. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
}

/** What the key work did and found in one committee. */
export interface CommitteeKeys {
  readonly committeeId: string;
  /** This device's person's role as the verified chain says, or null when not a member. */
  readonly role: string | null;
  /** Whether this device is a co-signed staff member's, and so does the committee's key work. */
  readonly staff: boolean;
  /** The current epoch after this pass, -1 when the committee has none yet. */
  readonly epoch: number;
  /** `started`: this pass started `epoch`; `wrapped`: it wrapped the current key for more devices. */
  readonly action: 'started' | 'wrapped' | 'none';
  /** Why the epoch was started, when this pass started one. */
  readonly reason: EpochReason | null;
  /** Devices this pass wrapped a key for. */
  readonly wrappedFor: readonly DeviceRef[];
  /** Devices holding the current epoch's key. */
  readonly holders: readonly DeviceRef[];
  /** Key holders' devices nobody confirmed yet: they get no key until someone does. */
  readonly waiting: readonly DeviceRef[];
  /** Confirmed devices still without the current key (e.g. certified after the newest heartbeat). */
  readonly unwrapped: readonly DeviceRef[];
  /** Whether this device holds the current epoch's key. */
  readonly holdsKey: boolean;
  /** Why the key work stopped for this committee (stale heartbeat, refused record, …). */
  readonly error: DescribedError | null;
}

export interface KeyUpkeepOptions {
  /** A client logged in as this device. */
  readonly api: ApiClient;
  readonly chains: ChainSource;
  readonly device: KeyDevice;
  /** Where the chain heads this device saw are kept: no chain may go back behind them. */
  readonly state: Pick<LocalState, 'seenHeads' | 'saveSeenHeads' | 'setting'>;
  /** The committees to look at. */
  readonly committees: readonly string[];
  /** Start a new epoch in every staff committee even when none is due. */
  readonly rotate?: boolean;
  readonly now: Date;
  /** The staleness bound (seconds); crypto's default otherwise. */
  readonly stalenessSeconds?: number;
  /** How long to wait for the service's projector after a submission (ms). */
  readonly projectionWaitMs?: number;
}

const ref = (d: CertifiedDevice): DeviceRef => ({
  userId: d.userId,
  deviceId: d.deviceId,
  fingerprint: d.fingerprint,
});
const byName = (a: DeviceRef, b: DeviceRef) =>
  `${a.userId}/${a.deviceId}`.localeCompare(`${b.userId}/${b.deviceId}`);

/** Why a new epoch is due: a revoked key-holding device, else a removed key holder. */
const dueReason = (trust: TrustView, committee: CommitteeState): EpochReason => {
  const current = committee.epoch(committee.currentEpoch);
  const fps = current === undefined ? [] : [...current.wrapped.keys()];
  if (fps.some((fp) => trust.device(fp)?.revokedAt !== undefined)) return 'revocation';
  return 'removal';
};

/** The report of one committee, from its (possibly just extended) verified state. */
const describe = (
  trust: TrustView,
  committee: CommitteeState,
  self: string,
  userId: string,
  done: Pick<CommitteeKeys, 'action' | 'reason' | 'wrappedFor' | 'error'>,
): CommitteeKeys => {
  const member = committee.members.get(userId);
  const staff = committee.staff().includes(userId);
  const current = committee.epoch(committee.currentEpoch);
  const wrapped = current?.wrapped ?? new Map();
  const holders = [...wrapped.keys()]
    .map((fp) => trust.device(fp))
    .filter((d): d is CertifiedDevice => d !== undefined)
    .map(ref);
  const confirmed = confirmedDevices(trust, committee, staff ? self : undefined);
  const live = committee
    .keyHolders()
    .flatMap((u) => trust.devicesOf(u))
    .filter((d) => d.revokedAt === undefined);
  return {
    committeeId: committee.committeeId,
    role: member?.role ?? null,
    staff,
    epoch: committee.currentEpoch,
    ...done,
    holders: holders.sort(byName),
    waiting: live
      .filter((d) => !confirmed.has(d.fingerprint))
      .map(ref)
      .sort(byName),
    unwrapped: live
      .filter((d) => confirmed.has(d.fingerprint) && !wrapped.has(d.fingerprint))
      .map(ref)
      .sort(byName),
    holdsKey: wrapped.has(self),
  };
};

const stale = (error: unknown): boolean =>
  error instanceof ApiProblemError &&
  error.status === 409 &&
  error.code === 'RATSFACH_DOMAIN_CHAIN_STALE';

/** The key record this device would sign now, or undefined when nothing is to do. */
function decide(
  trust: TrustView,
  committee: CommitteeState,
  device: KeyDevice,
  options: KeyUpkeepOptions,
): { record: Uint8Array; reason: EpochReason | null } | undefined {
  const context = {
    trust,
    committee,
    self: device.keys,
    now: unixSeconds(options.now),
    ...(options.stalenessSeconds === undefined
      ? {}
      : { stalenessSeconds: options.stalenessSeconds }),
  };
  if (committee.currentEpoch < 0) {
    const started = startEpoch(context, 'initial', null);
    zeroize(started.epochKey);
    return { record: started.record, reason: 'initial' };
  }
  let keys: Map<number, Uint8Array>;
  try {
    keys = openEpochKeys(committee, device.keys);
  } catch (error) {
    if (!(error instanceof KeyListError) || error.code !== CryptoErrorCode.noWrappedKey)
      throw error;
    keys = new Map();
  }
  try {
    const current = keys.get(committee.currentEpoch);
    if (current === undefined) {
      throw new ConflictError(
        KeysErrorCode.noCurrentKey,
        `this device holds no key of epoch ${committee.currentEpoch} of ${committee.committeeId}`,
        {
          hint: 'Another staff device of the committee passes it on at its next sync (ratsfach keys there); this device must be confirmed first.',
          details: { committeeId: committee.committeeId, epoch: committee.currentEpoch },
        },
      );
    }
    if (options.rotate === true || committee.needsNewEpoch()) {
      const reason = committee.needsNewEpoch() ? dueReason(trust, committee) : 'rotation';
      const started = startEpoch(context, reason, current);
      zeroize(started.epochKey);
      return { record: started.record, reason };
    }
    const record = wrapForNewDevices(context, current);
    return record === undefined ? undefined : { record, reason: null };
  } finally {
    zeroizeKeys(keys);
  }
}

/**
 * A staff device's key work for `committees`, each verified from the pinned root: starts epoch 0
 * in a committee without one, starts a new epoch when a key holder was removed or a device
 * holding the key revoked (or `rotate`), and wraps the current key for confirmed member devices
 * that lack it (crypto's rules: confirmed, certified, unrevoked devices of co-signed members, at
 * a fresh heartbeat's heads). A record that no longer extends the committee chain (another staff
 * device wrote first) is refolded and decided once more, so two devices racing to start the same
 * epoch start it once. Each committee ends with a report; one failing never stops the others.
 */
export async function keyUpkeep(options: KeyUpkeepOptions): Promise<CommitteeKeys[]> {
  const { device } = options;
  const self = fingerprint(device.keys.signing.publicKey);
  const views = await foldCommittees(options.chains, device, options.committees, options.state);
  const reports: CommitteeKeys[] = [];
  for (const committeeId of [...new Set(options.committees)].sort()) {
    const failure = views.failed.get(committeeId);
    if (failure !== undefined) {
      reports.push(failedReport(committeeId, failure));
      continue;
    }
    let view = views.committees.get(committeeId) as CommitteeView;
    let trust = views.trust;
    const idle = { action: 'none' as const, reason: null, wrappedFor: [], error: null };
    for (let attempt = 0; ; attempt++) {
      let decided: ReturnType<typeof decide>;
      try {
        decided = view.state.staff().includes(device.userId)
          ? decide(trust, view.state, device, options)
          : undefined;
      } catch (error) {
        reports.push(
          describe(trust, view.state, self, device.userId, {
            ...idle,
            error: describeError(error),
          }),
        );
        break;
      }
      if (decided === undefined) {
        reports.push(describe(trust, view.state, self, device.userId, idle));
        break;
      }
      try {
        const recipients = recipientsOfKeyRecord(decided.record, trust);
        const input = {
          tenantId: device.tenantId,
          committeeId,
          epoch: decided.reason === null ? view.state.currentEpoch : view.state.currentEpoch + 1,
          signerUserId: device.userId,
          signerDeviceId: device.deviceId,
          record: decided.record,
          recipients,
        };
        await options.api.call(submitRecord, {
          params: { tenantId: device.tenantId },
          body: decided.reason === null ? wrapEpochKeysCommand(input) : startKeyEpochCommand(input),
        });
        await awaitProjection(options.api, options.projectionWaitMs ?? projectionWaitMs);
        const extended = CommitteeState.fold(trust, [...view.chain, decided.record]);
        const wrappedFor = recipients
          .map((r) => trust.devicesOf(r.userId).find((d) => d.deviceId === r.deviceId))
          .filter((d): d is CertifiedDevice => d !== undefined)
          .map(ref)
          .sort(byName);
        reports.push(
          describe(trust, extended, self, device.userId, {
            action: decided.reason === null ? 'wrapped' : 'started',
            reason: decided.reason,
            wrappedFor,
            error: null,
          }),
        );
        break;
      } catch (error) {
        if (stale(error) && attempt === 0) {
          // Another device extended the chain first: fold what it wrote and decide again.
          const refolded = await foldCommittees(
            options.chains,
            device,
            [committeeId],
            options.state,
          );
          const again = refolded.committees.get(committeeId);
          if (again === undefined) {
            reports.push(
              failedReport(committeeId, refolded.failed.get(committeeId) as DescribedError),
            );
            break;
          }
          view = again;
          trust = refolded.trust;
          continue;
        }
        const described = stale(error)
          ? {
              code: KeysErrorCode.chainBusy,
              message: `the chain of ${committeeId} moved twice while this device wrote to it`,
              hint: 'Another device keeps writing to the committee; run ratsfach keys again in a moment.',
            }
          : describeError(error);
        reports.push(
          describe(trust, view.state, self, device.userId, { ...idle, error: described }),
        );
        break;
      }
    }
  }
  return reports;
}

const failedReport = (committeeId: string, error: DescribedError): CommitteeKeys => ({
  committeeId,
  role: null,
  staff: false,
  epoch: -1,
  action: 'none',
  reason: null,
  wrappedFor: [],
  holders: [],
  waiting: [],
  unwrapped: [],
  holdsKey: false,
  error,
});

/** What `ratsfach sync` hands the key work before its pass. */
export interface SyncKeyUpkeepOptions {
  readonly api: ApiClient;
  readonly chains: ChainSource;
  readonly device: KeyDevice;
  readonly state: Pick<LocalState, 'setting' | 'setSetting' | 'seenHeads' | 'saveSeenHeads'>;
  readonly now: Date;
}

/**
 * The key work `ratsfach sync` does before its pass on a staff device: for the committees the
 * manifest names this person staff of (a hint only; the fold decides), `keyUpkeep`, and lines
 * for the person about what it did, what waits and what failed. It never fails the sync: a
 * failure is a line (the documents still sync; the key work is tried again next time).
 */
export async function syncKeyUpkeep(options: SyncKeyUpkeepOptions): Promise<string[]> {
  try {
    const known = await knownCommittees(
      options.api,
      options.state,
      options.device.tenantId,
      options.device.userId,
    );
    const staff = [...known].filter(([, role]) => role === 'staff').map(([id]) => id);
    if (staff.length === 0) return [];
    const reports = await keyUpkeep({ ...options, committees: staff });
    return reports
      .filter((r) => r.action !== 'none' || r.error !== null || r.waiting.length > 0)
      .flatMap(keyReportLines);
  } catch (error) {
    const described = describeError(error);
    return [`key work not done: ${described.message} (${described.code})`];
  }
}
