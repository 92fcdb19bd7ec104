import { decodeEvent, parseStoredTypeName, parseStreamName, StreamKind } from '@ratsfach/domain';
import { BlobKind, type BlobRef } from './blobRef.js';
import type { ReferenceSource } from './garbageCollector.js';

/** The fields of a stored event this needs; every `RecordedEvent` of the event store fits. */
export interface LoggedEvent {
  readonly stream: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** The part of an event store this needs: `EventStore.readAll` fits. */
export interface EventLogReader {
  readAll(): AsyncIterable<LoggedEvent>;
}

/**
 * The garbage collector's reference source from the event log: every content blob named by a
 * `VersionCommitted` of a document whose stream holds no `DocumentErased`. A deleted (not
 * erased) document can still be restored, so its blobs stay referenced.
 *
 * Reads the whole log once per run and keeps one entry per version of a live document; only
 * document events are decoded. When a version event carries `keySlotHash`, that key slot is
 * yielded as referenced too, and the collector may then be given `kinds: ['blob', 'keyslot']`;
 * without it, key slots are left to the explicit delete that erases a document.
 */
export function referencesFromEventLog(log: EventLogReader): ReferenceSource {
  return async function* references(): AsyncIterable<BlobRef> {
    const byDocument = new Map<string, Set<string>>();
    const erased = new Set<string>();
    for await (const event of log.readAll()) {
      const name = parseStoredTypeName(event.type);
      if (name === null) continue;
      if (name.type !== 'VersionCommitted' && name.type !== 'DocumentErased') continue;
      const stream = parseStreamName(event.stream);
      if (stream.kind !== StreamKind.document) continue;
      const document = `${stream.tenant}/${stream.id}`;
      const decoded = decodeEvent(event);
      if (decoded.type === 'DocumentErased') {
        erased.add(document);
        byDocument.delete(document);
      } else if (decoded.type === 'VersionCommitted' && !erased.has(document)) {
        let refs = byDocument.get(document);
        if (refs === undefined) {
          refs = new Set();
          byDocument.set(document, refs);
        }
        refs.add(`${BlobKind.blob}/${Buffer.from(decoded.data.contentHash).toString('hex')}`);
        // Versions that name their key slot make it referenced too (see the module comment).
        const keySlotHash: unknown = (decoded.data as { keySlotHash?: unknown }).keySlotHash;
        if (keySlotHash instanceof Uint8Array) {
          refs.add(`${BlobKind.keyslot}/${Buffer.from(keySlotHash).toString('hex')}`);
        }
      }
    }
    for (const [document, refs] of byDocument) {
      const tenant = document.slice(0, document.indexOf('/'));
      for (const ref of refs) {
        const [kind, hash] = ref.split('/') as [BlobKind, string];
        yield { tenant, kind, hash };
      }
    }
  };
}
