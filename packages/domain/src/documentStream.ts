import type { Command, Event, RecordCarrier } from './message.js';
import type { Chain } from './chain.js';

/** The document stream (`document-<t>-<id>`) folded. */
export type DocumentState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active' | 'deleted' | 'erased';
      readonly tenantId: string;
      readonly documentId: string;
      readonly committeeId: string;
      /** Number of the newest version; 0 before the first. */
      readonly headVersion: number;
      readonly createdAt: string;
      readonly chain: Chain;
    };

interface WriterSigned {
  readonly tenantId: string;
  readonly documentId: string;
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  readonly record: Uint8Array;
}

/** A staff device creates a document in a committee. */
export type CreateDocument = Command<
  'CreateDocument',
  WriterSigned & { readonly committeeId: string }
>;

/** The indexed fields of a version, as the device signed them. */
export interface VersionFields {
  /** 1 for the first version, then head + 1. */
  readonly version: number;
  /** The head version the writer built on; null for the first version. */
  readonly parentVersion: number | null;
  /** The committee's key epoch the content key is wrapped under: must be the current one. */
  readonly epoch: number;
  /** The committee chain position the writer saw (its length) ... */
  readonly committeeSequence: number;
  /** ... and its head hash: a version written against an older committee state is refused. */
  readonly committeeHead: Uint8Array;
  /** BLAKE2b-512 over the ciphertext blob's part hashes. */
  readonly contentHash: Uint8Array;
  /** Ciphertext size in bytes. */
  readonly size: number;
  /** Size of the blob parts the content hash is defined over (added in VersionCommitted v2). */
  readonly partSize: number;
}

/** A staff device commits a new version (the blob is already stored and checked). */
export type CommitVersion = Command<'CommitVersion', WriterSigned & VersionFields>;
/** A staff device moves a document to another (encrypted) folder. */
export type MoveDocument = Command<'MoveDocument', WriterSigned>;
/** A staff device deletes a document; it can be restored until erased. */
export type DeleteDocument = Command<'DeleteDocument', WriterSigned>;
/** A staff device restores a deleted document. */
export type RestoreDocument = Command<'RestoreDocument', WriterSigned>;
/** A staff device erases a document for good; its key slots are then destroyed. */
export type EraseDocument = Command<'EraseDocument', WriterSigned>;
export type DocumentCommand =
  CreateDocument | CommitVersion | MoveDocument | DeleteDocument | RestoreDocument | EraseDocument;

interface WriterSignedEvent extends RecordCarrier {
  readonly signerUserId: string;
  readonly signerDeviceId: string;
}

export type DocumentCreated = Event<
  'DocumentCreated',
  WriterSignedEvent & {
    readonly tenantId: string;
    readonly documentId: string;
    readonly committeeId: string;
  }
>;
export type VersionCommitted = Event<'VersionCommitted', WriterSignedEvent & VersionFields>;
export type DocumentMoved = Event<'DocumentMoved', WriterSignedEvent>;
export type DocumentDeleted = Event<'DocumentDeleted', WriterSignedEvent>;
export type DocumentRestored = Event<'DocumentRestored', WriterSignedEvent>;
export type DocumentErased = Event<'DocumentErased', WriterSignedEvent>;
export type DocumentEvent =
  | DocumentCreated
  | VersionCommitted
  | DocumentMoved
  | DocumentDeleted
  | DocumentRestored
  | DocumentErased;
