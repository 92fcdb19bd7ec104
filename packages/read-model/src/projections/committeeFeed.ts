import { TableName, type RowChange } from '../tables.js';
import { defineProjection } from './projection.js';
import type { ProjectedEvent } from '../readModelStore.js';
import type { ProjectionState } from './projectionState.js';

/** The committee an event's feed entry belongs to, or null when its document is unknown. */
function committeeOf(state: ProjectionState, e: ProjectedEvent): string | null {
  if (e.kind === 'committee') return e.streamId;
  if (e.event.type === 'DocumentCreated') return e.event.data.committeeId;
  return state.document(e.tenantId, e.streamId)?.committeeId ?? null;
}

/**
 * One change feed per committee: every committee record and every document record (created,
 * version, move, deletion, restore, erasure), in log order, numbered 1, 2, 3, … per committee.
 */
export const committeeFeedProjection = defineProjection({
  name: 'committeeFeed',
  canHandle: [
    'CommitteeCreated',
    'MembershipChanged',
    'MembershipCoSigned',
    'KeyEpochStarted',
    'EpochKeysWrapped',
    'RetentionSet',
    'LegalHoldPlaced',
    'LegalHoldLifted',
    'DocumentCreated',
    'VersionCommitted',
    'DocumentMoved',
    'DocumentDeleted',
    'DocumentRestored',
    'DocumentErased',
  ],
  evolve(state, e): RowChange[] {
    const committeeId = committeeOf(state, e);
    if (committeeId === null) return [];
    const { event } = e;
    const data = event.data as unknown as Partial<Record<string, unknown>>;
    const epoch = typeof data['epoch'] === 'number' ? data['epoch'] : null;
    const userId =
      event.type === 'MembershipChanged' || event.type === 'MembershipCoSigned'
        ? event.data.userId
        : null;
    return [
      {
        table: TableName.committeeFeed,
        op: 'upsert',
        row: {
          tenantId: e.tenantId,
          committeeId,
          seq: state.committeeHead(e.tenantId, committeeId) + 1,
          position: e.position,
          stream: e.stream,
          revision: e.revision,
          type: event.type,
          documentId: e.kind === 'document' ? e.streamId : null,
          version: event.type === 'VersionCommitted' ? event.data.version : null,
          epoch,
          userId,
          occurredAt: event.metadata.occurredAt,
        },
      },
    ];
  },
});
