import { EpochDueError, StaleCommitteeStateError } from '../errors.js';
import type { CommitteeState } from './committeeState.js';
import type { TrustView } from '../identity/trustView.js';

/** Default staleness bound: a week without an admin heartbeat stops wrapping and writing. */
export const defaultStalenessSeconds = 7 * 24 * 3600;

/**
 * How far ahead of this device's clock a heartbeat may be dated and still count as fresh: a
 * heartbeat dated later is stale (a clock far ahead, or a record made to outlive the bound).
 */
export const maxClockSkewSeconds = 300;

/**
 * Throws StaleCommitteeStateError unless the newest admin heartbeat in the tenant chain is at
 * most `boundSeconds` older than `now` (this device's clock, Unix seconds) and at most
 * `maxClockSkewSeconds` ahead of it. Only admin heartbeats count, so a server that withholds a
 * removal or revocation buys little time.
 */
export function requireFresh(
  trust: TrustView,
  now: number,
  boundSeconds: number = defaultStalenessSeconds,
): void {
  const heartbeat = trust.latestHeartbeat;
  if (heartbeat === undefined) {
    throw new StaleCommitteeStateError('no admin heartbeat: refusing to wrap keys or write', {
      details: { heartbeatTime: null, now, boundSeconds },
    });
  }
  const age = now - heartbeat.time;
  if (age > boundSeconds || age < -maxClockSkewSeconds) {
    throw new StaleCommitteeStateError(
      age > boundSeconds
        ? `the newest admin heartbeat is ${age} s old, the bound is ${boundSeconds} s`
        : `the newest admin heartbeat is dated ${-age} s ahead of this device's clock`,
      { details: { heartbeatTime: heartbeat.time, now, boundSeconds, maxClockSkewSeconds } },
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
