import { TableName, type RowChange } from '../tables.js';
import { defineProjection } from './projection.js';
import { membershipTransition } from './membershipTransition.js';

/**
 * The per-user manifest: one row per committee a user reads. Joining a committee writes one
 * row however many documents it holds (the device then reads that committee's feed from its
 * start); leaving marks the row with the committee-feed position of the removal, so the user
 * still sees the feed up to their own removal and nothing after it. The merge of the feeds
 * happens at query time (`manifestDelta`), at the cost of the changes, not the documents.
 *
 * Runs after the committee feed, so the head it records on leaving includes the removal.
 */
export const manifestProjection = defineProjection({
  name: 'manifest',
  canHandle: ['MembershipChanged', 'MembershipCoSigned'],
  evolve(state, e): RowChange[] {
    const transition = membershipTransition(state, e);
    if (transition === null) return [];
    const { userId, committeeId, effect } = transition;
    const existing = state.manifestRow(e.tenantId, userId, committeeId);
    const key = { tenantId: e.tenantId, userId, committeeId };
    switch (effect.kind) {
      case 'joined':
        return [
          {
            table: TableName.manifest,
            op: 'upsert',
            row: { ...key, role: effect.role, joinedAt: e.position, leftAtSeq: null },
          },
        ];
      case 'left':
        if (existing === undefined) return [];
        return [
          {
            table: TableName.manifest,
            op: 'upsert',
            row: { ...existing, leftAtSeq: state.committeeHead(e.tenantId, committeeId) },
          },
        ];
      case 'roleChanged':
        if (existing === undefined) return [];
        return [
          { table: TableName.manifest, op: 'upsert', row: { ...existing, role: effect.role } },
        ];
      case 'none':
        return [];
    }
  },
});
