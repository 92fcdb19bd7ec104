import { CommitteeState, TrustView, type DeviceKeys, type JudgingFloor } from '@ratsfach/crypto';
import { ApiProblemError } from '../http/apiClient.js';
import type { LocalState } from '../ports/localState.js';
import { refuseRollback, usersNamedIn, type ChainSource } from '../sync/syncOnce.js';
import { fetchTrustChains } from '../sync/trustChains.js';
import { describeError, type DescribedError } from '../cli/output.js';
import { KeysErrorCode } from './keysErrorCode.js';

/** The device doing key work: its ids, keys and the root pin from its enrolment code. */
export interface KeyDevice {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly keys: DeviceKeys;
  /** The root pin from the enrolment code (20 bytes). */
  readonly rootPin: Uint8Array;
}

/** One committee as this device verified it, with the signed chain it folded. */
export interface CommitteeView {
  readonly state: CommitteeState;
  readonly chain: readonly Uint8Array[];
}

/** The trust view and the committees folded under it; a committee that failed says why. */
export interface CommitteeViews {
  readonly trust: TrustView;
  readonly committees: ReadonlyMap<string, CommitteeView>;
  readonly failed: ReadonlyMap<string, DescribedError>;
}

export const committeeStream = (tenantId: string, committeeId: string): string =>
  `committee-${tenantId}-${committeeId}`;
export const userStream = (tenantId: string, userId: string): string =>
  `user-${tenantId}-${userId}`;

const unreadable = (committeeId: string): DescribedError => ({
  code: KeysErrorCode.committeeUnknown,
  message: `committee ${committeeId} cannot be read by this device`,
  hint: 'Check the committee id; this device reads only committees its person belongs to.',
});

/**
 * Fetches the tenant chain, the chains of `committeeIds` and the user chains they name, and
 * folds them from the pinned root: everything the key work decides on is verified here, nothing
 * is taken from the server's word. Every chain must extend the head this device saw of it (the
 * sync pass's rule, on the key work's path too: a server rolling back a committee chain to hide
 * a removal, or a user chain to hide a revocation, gets no key wrapped), and what was verified
 * is kept in `heads`. Committee records past the seen head are judged from the sync's judging
 * floor, as the sync pass judges them (it takes what is accepted here as judged). A committee
 * this device may not read (404), whose chain was rolled back or fails to fold is reported in
 * `failed`; the tenant or a user chain failing (a rollback too) throws.
 */
export async function foldCommittees(
  chains: ChainSource,
  device: KeyDevice,
  committeeIds: readonly string[],
  heads: Pick<LocalState, 'seenHeads' | 'saveSeenHeads' | 'setting'>,
): Promise<CommitteeViews> {
  const seen = heads.seenHeads();
  const chainOf = async (stream: string) =>
    refuseRollback(stream, await chains.chain(stream), seen);
  const raw = new Map<string, readonly Uint8Array[]>();
  const failed = new Map<string, DescribedError>();
  const userIds = new Set([device.userId]);
  for (const committeeId of [...new Set(committeeIds)].sort()) {
    try {
      const chain = await chainOf(committeeStream(device.tenantId, committeeId));
      raw.set(committeeId, chain);
      for (const userId of usersNamedIn(chain)) userIds.add(userId);
    } catch (error) {
      if (error instanceof ApiProblemError && error.status === 404) {
        failed.set(committeeId, unreadable(committeeId));
      } else failed.set(committeeId, describeError(error));
    }
  }
  const tenantStream = `tenant-${device.tenantId}`;
  const trust = TrustView.build({
    rootPin: device.rootPin,
    ...(await fetchTrustChains(chainOf, device.tenantId, userIds)),
  });
  seen.accept(tenantStream, trust.tenantHashes);
  for (const [userId, hashes] of trust.userHashes) {
    seen.accept(userStream(device.tenantId, userId), hashes);
  }
  const floors = JSON.parse(heads.setting('judgingFloors') ?? '{}') as Record<string, JudgingFloor>;
  const committees = new Map<string, CommitteeView>();
  for (const [committeeId, chain] of raw) {
    const stream = committeeStream(device.tenantId, committeeId);
    try {
      const state = CommitteeState.fold(trust, chain, {
        accepted: seen.head(stream)?.length ?? 0,
        floor: floors[committeeId] ?? null,
      });
      seen.accept(stream, state.hashes);
      committees.set(committeeId, { state, chain });
    } catch (error) {
      failed.set(committeeId, describeError(error));
    }
  }
  heads.saveSeenHeads(seen);
  return { trust, committees, failed };
}
