import { domainErrors } from '../../domainErrors.js';
import { requireOwnStream } from '../carried.js';
import type { ActiveCommittee } from '../contextState.js';
import type { CommitteeState } from './committeeStream.js';

/** The committee the command is decided on, refusing before its creation or for another one. */
export function requireCommittee(
  state: CommitteeState,
  tenantId: string,
  committeeId: string,
): ActiveCommittee {
  if (state.status !== 'active') throw domainErrors.committeeUnknown(committeeId);
  requireOwnStream('committeeId', [tenantId, committeeId], [state.tenantId, state.committeeId]);
  return state;
}
