import { type EventMetadata, RecordPurpose } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import type { CheckedRecord } from '../checkRecord.js';
import { requireMemberSigner } from '../authorize.js';
import { recordTail } from '../carried.js';
import { contextUser, requireTenantContext } from '../contextState.js';
import type { ActiveCommittee } from '../contextState.js';
import { checkId, checkInt } from '../../validate.js';
import type { WrappedKeyView } from '../../recordViews.js';
import { Right, membershipEffective } from './roles.js';
import type {
  CommitteeEvent,
  CommitteeState,
  KeyRecipient,
  KeyRecipientRef,
  StartKeyEpoch,
  WrapEpochKeys,
} from './committeeStream.js';
import { requireCommittee } from './requireCommittee.js';
import { confirmedDevices, isConfirmed, requireConfirmedSigner } from './confirmedDevices.js';

type KeyPurpose = typeof RecordPurpose.keyEpoch | typeof RecordPurpose.epochKeys;

/**
 * Checks the devices a key record wraps for: each a certified, unrevoked device of a member in
 * effect, confirmed for the committee as devices judge it (`confirmedDevices`; the signing
 * device `self`, which must itself be confirmed, counts), and exactly the set of recipients the signed record names (by
 * fingerprint).
 */
function checkRecipients(
  committee: ActiveCommittee,
  context: DomainContext,
  refs: readonly KeyRecipientRef[],
  wrapped: readonly WrappedKeyView[],
  self: KeyRecipientRef,
): KeyRecipient[] {
  if (!Array.isArray(refs) || refs.length === 0 || wrapped.length === 0) {
    throw domainErrors.keyListEmpty();
  }
  const recipients: KeyRecipient[] = [];
  const seen = new Set<string>();
  // contextRequirements loaded the signer's, the recipients' and the staff members' streams.
  const users = context.users ?? {};
  requireConfirmedSigner(committee, users, self);
  const confirmed = confirmedDevices(committee, users, self);
  for (const { userId, deviceId } of refs) {
    checkId('recipients.userId', userId);
    checkId('recipients.deviceId', deviceId);
    if (seen.has(`${userId}/${deviceId}`)) {
      throw domainErrors.commandMalformed(
        'recipients',
        `device ${userId}/${deviceId} is named twice`,
      );
    }
    seen.add(`${userId}/${deviceId}`);
    const member = committee.members[userId];
    if (member === undefined || !membershipEffective(member)) {
      throw domainErrors.recipientNotMember(userId, committee.committeeId);
    }
    const user = contextUser(context, userId);
    // The loader reads the command's tenant only; a state of another tenant is refused anyway.
    const device =
      user?.status === 'active' && user.tenantId === committee.tenantId
        ? user.devices[deviceId]
        : undefined;
    if (device === undefined || device.revoked) {
      throw domainErrors.recipientDeviceInvalid(userId, deviceId);
    }
    if (!isConfirmed(confirmed, { userId, deviceId })) {
      throw domainErrors.recipientNotConfirmed(userId, deviceId, committee.committeeId);
    }
    recipients.push({ userId, deviceId, fingerprint: device.fingerprint });
  }
  const signed = new Set(wrapped.map((key) => key.recipient));
  if (
    signed.size !== wrapped.length ||
    signed.size !== recipients.length ||
    recipients.some((r) => !signed.has(r.fingerprint))
  ) {
    throw domainErrors.recordMismatch('wrappedKeys');
  }
  return recipients;
}

/** Verifies a key record of `epoch` and that its signer's role holds `right`. */
function checkKeyRecord<P extends KeyPurpose>(
  { data }: StartKeyEpoch | WrapEpochKeys,
  state: CommitteeState,
  context: DomainContext,
  purpose: P,
  right: Right,
): { readonly committee: ActiveCommittee; readonly checked: CheckedRecord<P> } {
  const { tenantId, committeeId, signerUserId, signerDeviceId, epoch, record } = data;
  checkId('signerUserId', signerUserId);
  checkInt('epoch', epoch, 0);
  const committee = requireCommittee(state, tenantId, committeeId);
  const checked = checkRecord(context.verifier, record, purpose, committee.chain, {
    tenantId,
    committeeId,
    epoch,
  });
  requireMemberSigner(
    committee,
    contextUser(context, signerUserId),
    signerUserId,
    signerDeviceId,
    checked.verified,
    right,
    requireTenantContext(context, tenantId),
  );
  return { committee, checked };
}

/** A staff device starts the next key epoch, wrapping its key for the devices that keep reading. */
export function startKeyEpoch(
  command: StartKeyEpoch,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { committee, checked } = checkKeyRecord(
    command,
    state,
    context,
    RecordPurpose.keyEpoch,
    Right.startEpochs,
  );
  const { epoch, recipients, signerUserId, signerDeviceId, record } = command.data;
  const next = committee.epoch === null ? 0 : committee.epoch + 1;
  if (epoch !== next) throw domainErrors.epochNotNext(epoch, committee.epoch, next);
  const indexed = checkRecipients(committee, context, recipients, checked.fields.wrappedKeys, {
    userId: signerUserId,
    deviceId: signerDeviceId,
  });
  const data = { epoch, recipients: indexed, signerUserId, signerDeviceId };
  return [{ type: 'KeyEpochStarted', data: recordTail(data, record, checked.verified), metadata }];
}

/** A staff device wraps the current epoch key for more devices (a new member, a new device). */
export function wrapEpochKeys(
  command: WrapEpochKeys,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { committee, checked } = checkKeyRecord(
    command,
    state,
    context,
    RecordPurpose.epochKeys,
    Right.wrapKeys,
  );
  const { epoch, recipients, signerUserId, signerDeviceId, record } = command.data;
  if (committee.epoch === null) throw domainErrors.epochNotStarted(committee.committeeId, epoch);
  if (epoch !== committee.epoch) throw domainErrors.epochNotCurrent(epoch, committee.epoch);
  const indexed = checkRecipients(committee, context, recipients, checked.fields.wrappedKeys, {
    userId: signerUserId,
    deviceId: signerDeviceId,
  });
  const data = { epoch, recipients: indexed, signerUserId, signerDeviceId };
  return [{ type: 'EpochKeysWrapped', data: recordTail(data, record, checked.verified), metadata }];
}
