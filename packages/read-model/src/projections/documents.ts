import { TableName, type Row, type RowChange } from '../tables.js';
import { defineProjection, hex } from './projection.js';

/**
 * Documents (committee, status, head version) and their version history. An erased document
 * keeps its row (status `erased`) and loses its versions.
 */
export const documentsProjection = defineProjection({
  name: 'documents',
  canHandle: [
    'DocumentCreated',
    'VersionCommitted',
    'DocumentDeleted',
    'DocumentRestored',
    'DocumentErased',
  ],
  evolve(state, e): RowChange[] {
    const { event, tenantId } = e;
    const documentId = e.streamId;
    const put = (row: Row): RowChange => ({ table: TableName.documents, op: 'upsert', row });
    if (event.type === 'DocumentCreated') {
      return [
        put({
          tenantId,
          documentId,
          committeeId: event.data.committeeId,
          status: 'active',
          headVersion: 0,
          createdAt: event.metadata.occurredAt,
          deletedAt: null,
        }),
      ];
    }
    const document = state.document(tenantId, documentId);
    if (document === undefined) return [];
    switch (event.type) {
      case 'VersionCommitted': {
        const d = event.data;
        return [
          put({ ...document, headVersion: d.version }),
          {
            table: TableName.versions,
            op: 'upsert',
            row: {
              tenantId,
              documentId,
              version: d.version,
              parentVersion: d.parentVersion,
              epoch: d.epoch,
              contentHash: hex(d.contentHash),
              size: d.size,
              keySlotHash: hex(d.keySlotHash),
              signerUserId: d.signerUserId,
              signerDeviceId: d.signerDeviceId,
              position: e.position,
              revision: e.revision,
              occurredAt: event.metadata.occurredAt,
            },
          },
        ];
      }
      case 'DocumentDeleted':
        return [put({ ...document, status: 'deleted', deletedAt: event.metadata.occurredAt })];
      case 'DocumentRestored':
        return [put({ ...document, status: 'active', deletedAt: null })];
      case 'DocumentErased': {
        const changes: RowChange[] = [put({ ...document, status: 'erased' })];
        for (let version = 1; version <= document.headVersion; version++) {
          changes.push({
            table: TableName.versions,
            op: 'delete',
            key: { tenantId, documentId, version },
          });
        }
        return changes;
      }
      default:
        return [];
    }
  },
});
