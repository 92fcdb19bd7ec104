import type { Command, Event } from '@ratsfach/kernel';
import type { CommandData } from '../../schemas/commandSchemas.js';
import type { EventData } from '../../schemas/eventSchemas.js';
import type { Chain } from '../../chain.js';

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
      /** Decision time of the creation (ISO 8601 UTC). */
      readonly createdAt: string;
      /** Decision time of the deletion in force, or null. */
      readonly deletedAt: string | null;
      readonly chain: Chain;
    };

/** A staff device creates a document in a committee. */
export type CreateDocument = Command<'CreateDocument', CommandData<'CreateDocument'>>;
/** A staff device commits a new version (the blob is already stored and checked). */
export type CommitVersion = Command<'CommitVersion', CommandData<'CommitVersion'>>;
/** A staff device moves or renames a document (the new metadata is encrypted in the record). */
export type MoveDocument = Command<'MoveDocument', CommandData<'MoveDocument'>>;
/** A staff device deletes a document; it can be restored until erased. */
export type DeleteDocument = Command<'DeleteDocument', CommandData<'DeleteDocument'>>;
/** A staff device restores a deleted document. */
export type RestoreDocument = Command<'RestoreDocument', CommandData<'RestoreDocument'>>;
/** A staff device erases a document for good; its key slots are then destroyed. */
export type EraseDocument = Command<'EraseDocument', CommandData<'EraseDocument'>>;
export type DocumentCommand =
  CreateDocument | CommitVersion | MoveDocument | DeleteDocument | RestoreDocument | EraseDocument;

/** The committee state a document record was written against. */
export interface CommitteeStateRef {
  /** Length of the committee chain the writer saw. */
  readonly committeeSequence: number;
  /** Hash of its head. */
  readonly committeeHead: Uint8Array;
}

/** The indexed fields of a version, read from the signed record. */
export interface VersionFields extends CommitteeStateRef {
  /** 1 for the first version, then head + 1. */
  readonly version: number;
  /** The head version the writer built on; null for the first version. */
  readonly parentVersion: number | null;
  /** The committee's key epoch the content key is wrapped under. */
  readonly epoch: number;
  /** Part-wise BLAKE2b-512 hash of the encrypted content blob. */
  readonly contentHash: Uint8Array;
  /** Size of the encrypted content in bytes. */
  readonly size: number;
  /** Hash of the key slot object holding the wrapped content key. */
  readonly keySlotHash: Uint8Array;
}

export type DocumentCreated = Event<'DocumentCreated', EventData<'DocumentCreated'>>;
export type VersionCommitted = Event<'VersionCommitted', EventData<'VersionCommitted'>>;
export type DocumentMoved = Event<'DocumentMoved', EventData<'DocumentMoved'>>;
export type DocumentDeleted = Event<'DocumentDeleted', EventData<'DocumentDeleted'>>;
export type DocumentRestored = Event<'DocumentRestored', EventData<'DocumentRestored'>>;
export type DocumentErased = Event<'DocumentErased', EventData<'DocumentErased'>>;
export type DocumentEvent =
  | DocumentCreated
  | VersionCommitted
  | DocumentMoved
  | DocumentDeleted
  | DocumentRestored
  | DocumentErased;
