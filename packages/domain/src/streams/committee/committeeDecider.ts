import { type Decider, eventMetadata, type EventMetadata, RecordPurpose } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import { emptyChain } from '../../chain.js';
import { requireAdminSigner } from '../authorize.js';
import { recordTail } from '../carried.js';
import { requireTenantContext } from '../contextState.js';
import { assertNever, checkId, checkMetadata, checkRecordBytes } from '../../validate.js';
import type {
  CommitteeCommand,
  CommitteeEvent,
  CommitteeState,
  CreateCommittee,
} from './committeeStream.js';
import { evolveCommittee } from './evolveCommittee.js';
import { changeMembership, coSignMembership } from './membership.js';
import { startKeyEpoch, wrapEpochKeys } from './keyEpochs.js';
import { liftLegalHold, placeLegalHold, setRetention } from './retentionAndHolds.js';

export { evolveCommittee } from './evolveCommittee.js';
export { maxRetentionDays } from './retentionAndHolds.js';

/** An admin device creates the committee's stream. */
function createCommittee(
  { data: { tenantId, committeeId, signerDeviceId, record } }: CreateCommittee,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  if (state.status !== 'absent') throw domainErrors.committeeExists(committeeId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.committeeCreated,
    emptyChain(),
    { tenantId, committeeId },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const data = recordTail({ tenantId, committeeId, signerDeviceId }, record, verified);
  return [{ type: 'CommitteeCreated', data, metadata }];
}

/** Decides commands of a committee stream: membership, key epochs, retention and legal holds. */
export function decideCommittee(
  command: CommitteeCommand,
  state: CommitteeState,
  context: DomainContext,
): CommitteeEvent[] {
  checkMetadata(command.metadata);
  checkId('tenantId', command.data.tenantId);
  checkId('committeeId', command.data.committeeId);
  checkId('signerDeviceId', command.data.signerDeviceId);
  checkRecordBytes(command.data.record);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'CreateCommittee':
      return createCommittee(command, state, context, metadata);
    case 'ChangeMembership':
      return changeMembership(command, state, context, metadata);
    case 'CoSignMembership':
      return coSignMembership(command, state, context, metadata);
    case 'StartKeyEpoch':
      return startKeyEpoch(command, state, context, metadata);
    case 'WrapEpochKeys':
      return wrapEpochKeys(command, state, context, metadata);
    case 'SetRetention':
      return setRetention(command, state, context, metadata);
    case 'PlaceLegalHold':
      return placeLegalHold(command, state, context, metadata);
    case 'LiftLegalHold':
      return liftLegalHold(command, state, context, metadata);
    default:
      return assertNever(command);
  }
}

/** A committee stream's decider. */
export const committeeDecider: Decider<
  CommitteeCommand,
  CommitteeEvent,
  CommitteeState,
  DomainContext
> = {
  decide: decideCommittee,
  evolve: evolveCommittee,
  initialState: () => ({ status: 'absent' }),
};
