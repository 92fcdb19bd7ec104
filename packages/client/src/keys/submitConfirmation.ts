import { submitRecord, type SignedCommand } from '@ratsfach/api-contract';
import { fingerprint, signDeviceConfirmation } from '@ratsfach/crypto';
import { ConflictError } from '@ratsfach/kernel';
import { awaitProjection, projectionWaitMs } from '../admin/adminSession.js';
import { ApiProblemError, type ApiClient } from '../http/apiClient.js';
import { coSignMembershipCommand } from '../records/committeeRecords.js';
import { toCommandJson } from '../records/toCommandJson.js';
import type { LocalState } from '../ports/localState.js';
import type { ChainSource } from '../sync/syncOnce.js';
import { foldCommittees, type CommitteeViews, type KeyDevice } from './committeeViews.js';
import { KeysErrorCode } from './keysErrorCode.js';
import { pendingConfirmations, type PendingConfirmation } from './pendingConfirmations.js';

export interface SubmitConfirmationOptions {
  readonly api: ApiClient;
  readonly chains: ChainSource;
  readonly device: KeyDevice;
  /** Where the chain heads this device saw are kept (see `foldCommittees`). */
  readonly state: Pick<LocalState, 'seenHeads' | 'saveSeenHeads' | 'setting'>;
  /** The committees folded (a refold folds the same). */
  readonly committees: readonly string[];
  readonly projectionWaitMs?: number;
}

/** The signed command for one pending co-signature or confirmation, under `views`. */
function commandFor(
  views: CommitteeViews,
  item: PendingConfirmation,
  device: KeyDevice,
): SignedCommand {
  const { trust } = views;
  const signer = {
    signerUserId: device.userId,
    signerDeviceId: device.deviceId,
  };
  if (item.kind === 'membership') {
    const { state } = views.committees.get(item.committeeId) as NonNullable<
      ReturnType<CommitteeViews['committees']['get']>
    >;
    return coSignMembershipCommand({
      tenantId: device.tenantId,
      committeeId: item.committeeId,
      tenantPosition: trust.tenantHead.length,
      ...signer,
      signer: device.keys.signing,
      userId: item.userId,
      membershipSequence: item.sequence,
      membershipHash: item.hash,
      link: { sequence: state.head.length, previousHash: state.head.hash },
    });
  }
  const hashes = trust.userHashes.get(item.device.userId) ?? [];
  const record = signDeviceConfirmation({
    trust,
    device: item.device,
    link: {
      sequence: hashes.length,
      previousHash: hashes[hashes.length - 1] as Uint8Array,
    },
    self: device.keys.signing,
    ...(item.committeeId === null
      ? {}
      : { committee: views.committees.get(item.committeeId)?.state }),
  } as Parameters<typeof signDeviceConfirmation>[0]);
  return toCommandJson('ConfirmDevice', {
    tenantId: device.tenantId,
    userId: item.device.userId,
    deviceId: item.device.deviceId,
    ...signer,
    committeeId: item.committeeId,
    record,
  });
}

const stale = (error: unknown): boolean =>
  error instanceof ApiProblemError &&
  error.status === 409 &&
  error.code === 'RATSFACH_DOMAIN_CHAIN_STALE';

/**
 * Signs and submits the pending co-signature or confirmation `key` names. When its chain moved
 * meanwhile (409 RATSFACH_DOMAIN_CHAIN_STALE: another record came first), it refolds the chains,
 * finds the item again (gone when someone else did it) and tries once more. Returns the views
 * to go on with and whether this device submitted it.
 */
export async function submitConfirmation(
  options: SubmitConfirmationOptions,
  views: CommitteeViews,
  key: string,
): Promise<{ readonly views: CommitteeViews; readonly submitted: boolean }> {
  const self = {
    userId: options.device.userId,
    fingerprint: fingerprint(options.device.keys.signing.publicKey),
  };
  let current = views;
  for (let attempt = 0; ; attempt++) {
    const item = pendingConfirmations(current, self).find((p) => p.key === key);
    if (item === undefined) return { views: current, submitted: false };
    try {
      await options.api.call(submitRecord, {
        params: { tenantId: options.device.tenantId },
        body: commandFor(current, item, options.device),
      });
      await awaitProjection(options.api, options.projectionWaitMs ?? projectionWaitMs);
      return { views: current, submitted: true };
    } catch (error) {
      if (!stale(error)) throw error;
      if (attempt > 0) {
        throw new ConflictError(
          KeysErrorCode.chainBusy,
          'the chain moved twice while this device wrote to it',
          { hint: 'Another device keeps writing to the chain; run ratsfach confirm again.' },
        );
      }
      current = await foldCommittees(
        options.chains,
        options.device,
        options.committees,
        options.state,
      );
    }
  }
}
