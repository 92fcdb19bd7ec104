import { fingerprint, openAnyRecord } from '@ratsfach/crypto';
import { streamName, StreamKind, type RecordBodies } from '@ratsfach/kernel';

/** The chains `TrustView.build` folds: the tenant chain and the user chains it needs. */
export interface TrustChains {
  readonly tenantChain: readonly Uint8Array[];
  readonly userChains: Readonly<Record<string, readonly Uint8Array[]>>;
}

/** User ids the tenant chain's heartbeats name (an admin's list of every user chain). */
const usersInHeartbeats = (tenantChain: readonly Uint8Array[]): string[] => {
  const users = new Set<string>();
  for (const bytes of tenantChain) {
    const record = openAnyRecord(bytes);
    if (record.purpose !== 'heartbeat') continue;
    for (const userId of Object.keys((record.body as RecordBodies['heartbeat']).userHeads)) {
      users.add(userId);
    }
  }
  return [...users].sort();
};

/**
 * Fetches, through `chainOf` (which checks what the device saw), the user chains of `userIds`
 * and the tenant chain, and then the chains the trust view needs to judge them: a user chain
 * holds the confirmations of that user's first device by the staff of every committee the user
 * is in, and `TrustView.build` refuses a confirmation whose signer's certificate it does not
 * have. A device that reads one of those committees only knows its own committees' people, so
 * the signers are looked for among the users the tenant's heartbeats name, one chain at a time
 * until every signer is found (or none is left: the fold then says which key it could not
 * trust). Nothing here is trusted: the fold verifies every chain from the pinned root.
 */
export async function fetchTrustChains(
  chainOf: (stream: string) => Promise<readonly Uint8Array[]>,
  tenantId: string,
  userIds: Iterable<string>,
): Promise<TrustChains> {
  const userChains: Record<string, readonly Uint8Array[]> = {};
  const certified = new Set<string>();
  const signers = new Set<string>();
  const add = async (userId: string) => {
    const chain = await chainOf(streamName(StreamKind.user, tenantId, userId));
    userChains[userId] = chain;
    for (const bytes of chain) {
      const record = openAnyRecord(bytes);
      if (record.purpose === 'device-certificate') {
        certified.add(fingerprint((record.body as RecordBodies['device-certificate']).signingKey));
      } else if (record.purpose === 'device-confirmation') {
        signers.add(record.signerFingerprint);
      }
    }
  };
  for (const userId of [...new Set(userIds)].sort()) await add(userId);
  const tenantChain = await chainOf(streamName(StreamKind.tenant, tenantId));
  const unknown = () => [...signers].some((signer) => !certified.has(signer));
  if (unknown()) {
    for (const userId of usersInHeartbeats(tenantChain)) {
      if (userId in userChains) continue;
      await add(userId);
      if (!unknown()) break;
    }
  }
  return { tenantChain, userChains };
}
