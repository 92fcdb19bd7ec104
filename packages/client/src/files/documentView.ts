import { fetchKeySlots } from '@ratsfach/api-contract';
import {
  checkKeySlotHash,
  CommitteeState,
  DocumentState,
  KeyListError,
  MemorySink,
  openEpochKeys,
  openKeySlot,
  openSignedMetadata,
  openVersionContent,
  plaintextSizeOf,
  TrustView,
  zeroize,
  type DocumentMetadata,
  type JudgingFloor,
  type VerifiedVersion,
} from '@ratsfach/crypto';
import { base64urlDecode, NotFoundError, streamName, StreamKind } from '@ratsfach/kernel';
import type { KeyDevice } from '../keys/committeeViews.js';
import type { LocalState } from '../ports/localState.js';
import {
  contentStream,
  fetchDocumentChain,
  type DocumentFetch,
} from '../sync/readVerifiedDocument.js';
import { serverWithheldError } from '../sync/syncErrors.js';
import { usersNamedIn, type ChainSource } from '../sync/syncOnce.js';
import { FilesErrorCode } from './filesErrorCode.js';

/** What reading one document verified needs: the logged-in client, the chains, the device. */
export interface DocumentReader {
  readonly fetch: DocumentFetch;
  readonly chains: ChainSource;
  readonly device: KeyDevice;
  /** The device's local state: the heads it saw (rollbacks refused) and judging floors. */
  readonly state: LocalState;
}

/** A document as this device verified it now, with what opening its versions needs. */
export interface DocumentView {
  readonly trust: TrustView;
  readonly committee: CommitteeState;
  readonly document: DocumentState;
  /** The committee's epoch keys this device holds (empty when it holds none yet). */
  readonly epochKeys: ReadonlyMap<number, Uint8Array>;
}

/**
 * Folds the tenant chain from the pinned root, the committee's chain and the document's chain,
 * each required to extend what this device saw of it (a shorter or forked chain from the server
 * is refused, as in a sync pass), and keeps the heads read. Nothing of the server's word is
 * taken: a changed, withheld or made-up record fails the fold with the crypto package's error.
 */
export async function readDocumentView(
  reader: DocumentReader,
  committeeId: string,
  documentId: string,
): Promise<DocumentView> {
  const { device, state } = reader;
  const seen = state.seenHeads();
  const floors = JSON.parse(state.setting('judgingFloors') ?? '{}') as Record<string, JudgingFloor>;
  const committeeStream = streamName(StreamKind.committee, device.tenantId, committeeId);
  const committeeChain = await reader.chains.chain(committeeStream);
  const userIds = new Set([device.userId, ...usersNamedIn(committeeChain)]);
  const userChains: Record<string, readonly Uint8Array[]> = {};
  for (const userId of [...userIds].sort()) {
    userChains[userId] = await reader.chains.chain(
      streamName(StreamKind.user, device.tenantId, userId),
    );
  }
  const trust = TrustView.build({
    rootPin: device.rootPin,
    tenantChain: await reader.chains.chain(streamName(StreamKind.tenant, device.tenantId)),
    userChains,
  });
  seen.accept(streamName(StreamKind.tenant, device.tenantId), trust.tenantHashes);
  for (const [userId, hashes] of trust.userHashes) {
    seen.accept(streamName(StreamKind.user, device.tenantId, userId), hashes);
  }
  const floor = floors[committeeId] ?? null;
  const committee = CommitteeState.fold(trust, committeeChain, {
    accepted: seen.head(committeeStream)?.length ?? 0,
    floor,
  });
  seen.accept(committeeStream, committee.hashes);
  const documentStream = streamName(StreamKind.document, device.tenantId, documentId);
  const document = DocumentState.fold(
    committee,
    await fetchDocumentChain(reader.fetch, documentId),
    {
      accepted: seen.head(documentStream)?.length ?? 0,
      floor,
    },
  );
  if (document.documentId !== documentId) {
    throw serverWithheldError(`the chain of ${documentId} (it served another document's)`);
  }
  seen.accept(documentStream, document.hashes);
  state.saveSeenHeads(seen);
  let epochKeys: Map<number, Uint8Array>;
  try {
    epochKeys = openEpochKeys(committee, device.keys);
  } catch (error) {
    if (!(error instanceof KeyListError)) throw error;
    epochKeys = new Map();
  }
  return { trust, committee, document, epochKeys };
}

/** One verified version of a document, as `ratsfach history` shows it. */
export interface HistoryEntry {
  readonly version: number;
  readonly parentVersion: number | null;
  /** The person and device that signed the version (from the verified trust view). */
  readonly authorUserId: string;
  readonly authorDeviceId: string;
  /** The signed modification time (ISO 8601); null when this device holds no key for it. */
  readonly modifiedAt: string | null;
  /** The name and folders the version was written under; null without a key. */
  readonly path: string | null;
  /** The plaintext size in bytes, from the signed size of the encrypted content. */
  readonly size: number | null;
  readonly epoch: number;
}

/** The key slots of `versions`, each checked against the hash its signed record names. */
const keySlotsOf = async (
  reader: DocumentReader,
  documentId: string,
  versions: readonly VerifiedVersion[],
): Promise<Map<number, Uint8Array>> => {
  const slots = new Map<number, Uint8Array>();
  for (let i = 0; i < versions.length; i += 256) {
    const batch = versions.slice(i, i + 256);
    const reply = await reader.fetch.api.call(fetchKeySlots, {
      params: { tenantId: reader.device.tenantId },
      body: { slots: batch.map((v) => ({ documentId, version: v.body.version })) },
    });
    for (const v of batch) {
      const slot = reply.slots.find(
        (s) => s.documentId === documentId && s.version === v.body.version,
      );
      if (slot === undefined) continue;
      const bytes = base64urlDecode(slot.keySlot);
      // A slot that is not the signed one is refused, never opened.
      checkKeySlotHash(bytes, v.body.keySlotHash);
      slots.set(v.body.version, bytes);
    }
  }
  return slots;
};

/** The content key of `version`, opened from its checked key slot under the epoch key. */
const contentKeyOf = (
  view: DocumentView,
  version: VerifiedVersion,
  slot: Uint8Array,
): Uint8Array | undefined => {
  const epochKey = view.epochKeys.get(version.body.epoch);
  if (epochKey === undefined) return undefined;
  return openKeySlot(slot, {
    epochKey,
    binding: {
      tenantId: version.body.tenantId,
      committeeId: view.committee.committeeId,
      documentId: version.body.documentId,
      version: version.body.version,
      epoch: version.body.epoch,
    },
  });
};

/**
 * The verified version history of a document, oldest first: every version the folded chain
 * holds, its author from the trust view, and (where this device holds the epoch key) the name
 * and time the author signed, decrypted from the version record's own metadata. A key slot the
 * server changed is refused; one it withholds leaves that version's name and time unknown.
 */
export async function versionHistory(
  reader: DocumentReader,
  view: DocumentView,
): Promise<HistoryEntry[]> {
  const versions = view.document.versions;
  const slots =
    versions.length === 0
      ? new Map()
      : await keySlotsOf(reader, view.document.documentId, versions);
  return versions.map((v) => {
    const author = view.trust.device(v.authorFingerprint);
    const slot = slots.get(v.body.version);
    let metadata: DocumentMetadata | null = null;
    const contentKey = slot === undefined ? undefined : contentKeyOf(view, v, slot);
    if (contentKey !== undefined) {
      try {
        metadata = openSignedMetadata(v.body.encryptedMetadata, {
          signed: v.body.encryptedMetadata,
          contentKey,
          binding: {
            tenantId: v.body.tenantId,
            documentId: v.body.documentId,
            version: v.body.version,
            epoch: v.body.epoch,
          },
        });
      } finally {
        zeroize(contentKey);
      }
    }
    return {
      version: v.body.version,
      parentVersion: v.body.parentVersion,
      authorUserId: author?.userId ?? 'unknown',
      authorDeviceId: author?.deviceId ?? v.body.authorDeviceId,
      modifiedAt: metadata === null ? null : new Date(metadata.modifiedAt).toISOString(),
      path:
        metadata === null
          ? null
          : [view.committee.committeeId, ...metadata.folderPath, metadata.name].join('/'),
      size: plaintextSizeOf(Number(v.body.size)) ?? null,
      epoch: v.body.epoch,
    };
  });
}

/** The verified version `number` of the document, or a typed error naming the ones there are. */
export function requireVersion(view: DocumentView, number: number): VerifiedVersion {
  const found = view.document.versions.find((v) => v.body.version === number);
  if (found !== undefined) return found;
  const there = view.document.versions.map((v) => v.body.version);
  throw new NotFoundError(
    FilesErrorCode.unknownVersion,
    `the document has no version ${number}${there.length === 0 ? '' : ` (it has ${there[0]} to ${there[there.length - 1]})`}`,
    {
      hint: 'List the versions with `ratsfach history <file>` and pass one of them.',
      details: { version: number, versions: there.length },
    },
  );
}

/**
 * The plaintext of one verified version: its key slot checked against the signed hash, every
 * chunk, the size and the blob hash checked while decrypting (`openVersionContent`). Nothing is
 * returned from content that does not verify.
 */
export async function readVersionPlaintext(
  reader: DocumentReader,
  view: DocumentView,
  version: VerifiedVersion,
): Promise<Uint8Array> {
  const number = version.body.version;
  const slot = (await keySlotsOf(reader, view.document.documentId, [version])).get(number);
  if (slot === undefined) {
    throw serverWithheldError(`the key slot of ${view.document.documentId} version ${number}`);
  }
  const epochKey = view.epochKeys.get(version.body.epoch);
  if (epochKey === undefined) {
    throw new NotFoundError(
      FilesErrorCode.noKey,
      `this device holds no key of epoch ${version.body.epoch} of ${view.committee.committeeId}, under which version ${number} is encrypted`,
      {
        hint: 'A staff member passes the key on once this device is confirmed (ratsfach devices on your other device, or ratsfach confirm by staff); sync again afterwards.',
      },
    );
  }
  const sink = new MemorySink();
  await openVersionContent(
    await contentStream(reader.fetch, view.document.documentId, number),
    {
      record: {
        contentHash: version.body.contentHash,
        size: Number(version.body.size),
        keySlotHash: version.body.keySlotHash,
      },
      binding: {
        tenantId: version.body.tenantId,
        committeeId: view.committee.committeeId,
        documentId: version.body.documentId,
        version: number,
        epoch: version.body.epoch,
      },
      epochKey,
      keySlot: slot,
    },
    sink,
  );
  return sink.bytes();
}
