import { request } from 'undici';
import { documentRecords, downloadContent, fetchKeySlots, fillPath } from '@ratsfach/api-contract';
import {
  DocumentState,
  MemorySink,
  openKeySlot,
  openSignedMetadata,
  openVersionContent,
  requireEpochKey,
  type CommitteeState,
  type DocumentMetadata,
  type JudgingFloor,
  type PlaintextSink,
  type SeenHeads,
} from '@ratsfach/crypto';
import { base64urlDecode, streamName, StreamKind } from '@ratsfach/kernel';
import type { ApiClient } from '../http/apiClient.js';
import { ApiProblemError } from '../http/apiClient.js';
import { serverWithheldError } from './syncErrors.js';

/** A document head as this device verified it: everything the planner and the applier need. */
export interface VerifiedDocument {
  readonly documentId: string;
  readonly committeeId: string;
  /** The verified head version (0 before the first version). */
  readonly version: number;
  readonly deleted: boolean;
  /** The signed metadata, decrypted (null while the document has no version). */
  readonly metadata: DocumentMetadata | null;
  /** The verified, decrypted content of the head version (null when deleted or versionless). */
  readonly plaintext: Uint8Array | null;
  /** The document chain's verified head (length and hash of its last record). */
  readonly head: { readonly length: number; readonly hash: Uint8Array };
}

/** How the device reaches the service for one document (a logged-in client). */
export interface DocumentFetch {
  readonly api: ApiClient;
  readonly baseUrl: string;
  readonly token: string;
  readonly tenantId: string;
}

/** What the device already knows of a document chain before it reads it again. */
export interface DocumentKnown {
  /**
   * The chains this device accepted before: the document chain must extend the head seen of
   * it (a shorter or forked chain is refused), and the chain read is accepted into it.
   */
  readonly seen: SeenHeads;
  /** The committee's judging floor stored at its last complete sync (null before one). */
  readonly floor: JudgingFloor | null;
  /** The fewest records the chain must have: what the manifest said moved. */
  readonly atLeast: number;
}

/** The whole document chain, page by page, as the exact signed bytes. */
export const fetchDocumentChain = async (
  fetch: DocumentFetch,
  documentId: string,
): Promise<Uint8Array[]> => {
  const chain: Uint8Array[] = [];
  let from: number | null = 0;
  while (from !== null) {
    const page: { records: readonly { record: string }[]; next: number | null } =
      await fetch.api.call(documentRecords, {
        params: { tenantId: fetch.tenantId, documentId },
        query: { from: String(from) },
      });
    for (const record of page.records) chain.push(base64urlDecode(record.record));
    from = page.next;
  }
  return chain;
};

/** The encrypted content of a version, streamed (never trusted: the reader verifies it). */
export const contentStream = async (
  fetch: DocumentFetch,
  documentId: string,
  version: number,
): Promise<AsyncIterable<Uint8Array>> => {
  const path = fillPath(downloadContent.url, {
    tenantId: fetch.tenantId,
    documentId,
    version: String(version),
  });
  const response = await request(`${fetch.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${fetch.token}` },
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text();
    try {
      throw new ApiProblemError(
        JSON.parse(text) as ConstructorParameters<typeof ApiProblemError>[0],
      );
    } catch (error) {
      if (error instanceof ApiProblemError) throw error;
      throw serverWithheldError(`the content of ${documentId} version ${version}`);
    }
  }
  return response.body;
};

/**
 * Reads a document as the device must: folds its chain under the verified committee (every
 * record signed by a staff device valid at the positions it names, the chain unbroken), then
 * fetches the head version's key slot and content and releases plaintext only when the key
 * slot, every chunk, the size and the blob hash match what the author signed, and the metadata
 * is the signed one. The chain must extend the head this device saw of it and hold at least
 * the records the manifest announced; a record withheld or rolled back is refused like one
 * changed. The server's answers are never believed; an answer that does not verify is an error
 * and nothing is returned.
 */
export const readVerifiedDocument = async (
  fetch: DocumentFetch,
  committee: CommitteeState,
  epochKeys: ReadonlyMap<number, Uint8Array>,
  documentId: string,
  known: DocumentKnown,
): Promise<VerifiedDocument> => {
  const read = await readVerifiedDocumentInto(
    fetch,
    committee,
    epochKeys,
    documentId,
    known,
    async () => new MemorySink(),
  );
  const { content, ...rest } = read;
  return { ...rest, plaintext: content === null ? null : content.bytes() };
};

/** A document head read verified, its content in the sink the caller gave (null without one). */
export type VerifiedDocumentInto<S> = Omit<VerifiedDocument, 'plaintext'> & {
  readonly content: S | null;
};

/**
 * `readVerifiedDocument` with the head version's plaintext decrypted into a sink of the caller's
 * (a staged file in the synced folder, so memory stays flat in the size of the document): the
 * sink is committed only when every chunk, the size and the hash verified, and aborted
 * otherwise; the caller owns a committed sink.
 */
export const readVerifiedDocumentInto = async <S extends PlaintextSink>(
  fetch: DocumentFetch,
  committee: CommitteeState,
  epochKeys: ReadonlyMap<number, Uint8Array>,
  documentId: string,
  known: DocumentKnown,
  sinkFor: () => Promise<S>,
): Promise<VerifiedDocumentInto<S>> => {
  const stream = streamName(StreamKind.document, fetch.tenantId, documentId);
  const chain = await fetchDocumentChain(fetch, documentId);
  if (chain.length < known.atLeast) {
    throw serverWithheldError(`record ${chain.length} of ${stream}, which the manifest announced`);
  }
  const state = DocumentState.fold(committee, chain, {
    accepted: known.seen.head(stream)?.length ?? 0,
    floor: known.floor,
  });
  // Before any content is fetched: a rollback or a fork of what this device saw is refused.
  known.seen.accept(stream, state.hashes);
  const base = {
    documentId: state.documentId,
    committeeId: committee.committeeId,
    head: state.head,
  };
  const latest = state.latest;
  if (state.deleted || state.erased || latest === undefined || state.metadata === null) {
    return {
      ...base,
      version: latest?.body.version ?? 0,
      deleted: state.deleted || state.erased,
      metadata: null,
      content: null,
    };
  }
  const version = latest.body.version;
  const slots = await fetch.api.call(fetchKeySlots, {
    params: { tenantId: fetch.tenantId },
    body: { slots: [{ documentId, version }] },
  });
  const slot = slots.slots.find((s) => s.documentId === documentId && s.version === version);
  if (slot === undefined)
    throw serverWithheldError(`the key slot of ${documentId} version ${version}`);
  const keySlot = base64urlDecode(slot.keySlot);
  const binding = {
    tenantId: fetch.tenantId,
    committeeId: committee.committeeId,
    documentId,
    version,
    epoch: latest.body.epoch,
  };
  const epochKey = requireEpochKey(epochKeys, latest.body.epoch);
  const body = await contentStream(fetch, documentId, version);
  let sink: S;
  try {
    sink = await sinkFor();
  } catch (error) {
    // Leaving the iteration at once closes the download instead of leaving it to the socket.
    for await (const _ of body) break;
    throw error;
  }
  await openVersionContent(
    body,
    {
      record: {
        contentHash: latest.body.contentHash,
        size: Number(latest.body.size),
        keySlotHash: latest.body.keySlotHash,
      },
      binding,
      epochKey,
      keySlot,
    },
    sink,
  );
  // A move signs metadata bound to the head version it names, so the head's key opens it.
  const signed = state.metadata;
  let metadata: DocumentMetadata;
  try {
    if (signed.binding.version !== version)
      throw serverWithheldError(`the metadata of version ${version}`);
    metadata = openSignedMetadata(signed.encryptedMetadata, {
      signed: signed.encryptedMetadata,
      contentKey: openKeySlot(keySlot, { epochKey, binding }),
      binding: signed.binding,
    });
  } catch (error) {
    // The content verified but what names it did not: nothing of the version is released.
    await sink.abort(error);
    throw error;
  }
  return { ...base, version, deleted: false, metadata, content: sink };
};
