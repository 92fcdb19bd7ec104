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
 * document events are decoded. Key slots are not yielded: their hashes live inside the signed
 * records, and they are deleted when the document is erased.
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
        let hashes = byDocument.get(document);
        if (hashes === undefined) {
          hashes = new Set();
          byDocument.set(document, hashes);
        }
        hashes.add(Buffer.from(decoded.data.contentHash).toString('hex'));
      }
    }
    for (const [document, hashes] of byDocument) {
      const tenant = document.slice(0, document.indexOf('/'));
      for (const hash of hashes) yield { tenant, kind: BlobKind.blob, hash };
    }
  };
}
