import { EpochDueError, ForkError, StaleCommitteeStateError } from '../errors.js';
import { bytesEqual } from '@ratsfach/kernel';
import type { CertifiedDevice } from '../identity/trustView.js';
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
 * What a device checks before it wraps keys or writes for a committee (FORMAT.md "Wrapping and
 * writing"): the newest admin heartbeat is fresh (`requireFresh`), names this committee's head,
 * and this device's view of the committee chain reaches that head (else StaleCommitteeStateError;
 * a different record at a named position is a ForkError); it names a user-chain head of every
 * key holder that this device's view reaches (`TrustView.recipientsAt`). So a removal or
 * revocation an admin signed before that heartbeat is in the view. Returns the recipients: the
 * key holders' devices valid at the named heads.
 */
export function requireHeadsReached(
  trust: TrustView,
  committee: CommitteeState,
  now: number,
  boundSeconds: number = defaultStalenessSeconds,
): CertifiedDevice[] {
  requireFresh(trust, now, boundSeconds);
  const heartbeat = trust.latestHeartbeat as NonNullable<TrustView['latestHeartbeat']>;
  const named = heartbeat.committeeHeads[committee.committeeId];
  const details = { committeeId: committee.committeeId, heartbeat: heartbeat.sequence };
  if (named === undefined || named.length > committee.head.length) {
    throw new StaleCommitteeStateError(
      named === undefined
        ? `the newest heartbeat does not name committee ${committee.committeeId}`
        : `the newest heartbeat names committee head ${named.length}, this device has ${committee.head.length} records`,
      { details: { ...details, named: named?.length ?? null, have: committee.head.length } },
    );
  }
  if (!bytesEqual(committee.hashes[named.length - 1] as Uint8Array, named.hash)) {
    throw new ForkError(
      `committee ${committee.committeeId}: the record at ${named.length} differs from the one the admin heartbeat names`,
      { details: { ...details, position: named.length } },
    );
  }
  return trust.recipientsAt(committee.keyHolders());
}

/**
 * Everything a device checks before it writes for a committee (a version, a new document, a
 * move, a deletion): the heads the newest fresh admin heartbeat names are reached
 * (`requireHeadsReached`: committee head and every key holder's user head), this device is a
 * staff device now, confirmed for the committee (TrustError `signerNotConfirmed` otherwise), and
 * no removal or revocation since the current epoch began (else EpochDueError: start a new epoch
 * first). Returns the epoch to write under.
 */
export function requireWritable(
  trust: TrustView,
  committee: CommitteeState,
  selfFingerprint: string,
  now: number,
  boundSeconds: number = defaultStalenessSeconds,
): number {
  requireHeadsReached(trust, committee, now, boundSeconds);
  committee.requireConfirmedStaffSigner(
    selfFingerprint,
    trust.tenantHead.length,
    'this document record',
  );
  if (committee.needsNewEpoch()) {
    throw new EpochDueError(
      `committee ${committee.committeeId}: a key holder left or a device was revoked since epoch ${committee.currentEpoch}`,
      { details: { epoch: committee.currentEpoch } },
    );
  }
  return committee.currentEpoch;
}
