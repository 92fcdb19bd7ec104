import { EpochDueError, StaleCommitteeStateError } from '../errors.js';
import type { CommitteeState } from './committeeState.js';
import type { TrustView } from '../identity/trustView.js';

/** Default staleness bound: a week without an admin heartbeat stops wrapping and writing. */
export const defaultStalenessSeconds = 7 * 24 * 3600;

/**
 * Throws StaleCommitteeStateError unless the newest admin heartbeat in the tenant chain is at
 * most `boundSeconds` older than `now` (this device's clock, Unix seconds). Only admin
 * heartbeats count, so a server that withholds a removal or revocation buys little time.
 */
export function requireFresh(
  trust: TrustView,
  now: number,
  boundSeconds: number = defaultStalenessSeconds,
): void {
  const heartbeat = trust.latestHeartbeat;
  if (heartbeat === undefined || now - heartbeat.time > boundSeconds) {
    throw new StaleCommitteeStateError(
      heartbeat === undefined
        ? 'no admin heartbeat: refusing to wrap keys or write'
        : `the newest admin heartbeat is ${now - heartbeat.time} s old, the bound is ${boundSeconds} s`,
      { details: { heartbeatTime: heartbeat?.time ?? null, now, boundSeconds } },
    );
  }
}

/**
 * Everything a device checks before it writes for a committee (a version, a move, a deletion):
 * a fresh admin heartbeat, this device a staff device now, and no removal or revocation since
 * the current epoch began (else EpochDueError: start a new epoch first). Returns the epoch to
 * write under.
 */
export function requireWritable(
  trust: TrustView,
  committee: CommitteeState,
  selfFingerprint: string,
  now: number,
  boundSeconds: number = defaultStalenessSeconds,
): number {
  requireFresh(trust, now, boundSeconds);
  committee.requireStaffSigner(selfFingerprint, trust.tenantHead.length);
  if (committee.needsNewEpoch()) {
    throw new EpochDueError(
      `committee ${committee.committeeId}: a key holder left or a device was revoked since epoch ${committee.currentEpoch}`,
      { details: { epoch: committee.currentEpoch } },
    );
  }
  return committee.currentEpoch;
}
