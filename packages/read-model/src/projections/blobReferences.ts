import { TableName, type RowChange } from '../tables.js';
import { defineProjection, hex } from './projection.js';

/**
 * The blobs and key slots documents reference, for the blob-store garbage collector: every
 * version's content blob and key slot, until the document is erased. A deleted document can
 * still be restored, so its references stay. (Formerly `referencesFromEventLog` in
 * blob-store, which re-read the whole log on every collection.)
 *
 * Runs before `documents`, whose erasure keeps the head version it reads here.
 */
export const blobReferencesProjection = defineProjection({
  name: 'blobReferences',
  canHandle: ['VersionCommitted', 'DocumentErased'],
  evolve(state, e): RowChange[] {
    const { event, tenantId } = e;
    const documentId = e.streamId;
    if (event.type === 'VersionCommitted') {
      const { version } = event.data;
      const ref = { tenantId, documentId, version };
      return [
        {
          table: TableName.blobRefs,
          op: 'upsert',
          row: { ...ref, kind: 'blob', hash: hex(event.data.contentHash) },
        },
        {
          table: TableName.blobRefs,
          op: 'upsert',
          row: { ...ref, kind: 'keyslot', hash: hex(event.data.keySlotHash) },
        },
      ];
    }
    const document = state.document(tenantId, documentId);
    if (event.type !== 'DocumentErased' || document === undefined) return [];
    const changes: RowChange[] = [];
    for (let version = 1; version <= document.headVersion; version++) {
      for (const kind of ['blob', 'keyslot']) {
        changes.push({
          table: TableName.blobRefs,
          op: 'delete',
          key: { tenantId, documentId, version, kind },
        });
      }
    }
    return changes;
  },
});
