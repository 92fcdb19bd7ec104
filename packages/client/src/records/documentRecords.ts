import { signRecord, unchained, type ChainLink, type SigningKeyPair } from '@ratsfach/crypto';
import type { ChainHead } from '@ratsfach/domain';
import type { CommandJsonOf } from '@ratsfach/api-contract';
import { toCommandJson, type CommandOptions } from './toCommandJson.js';

/**
 * What every document record names: the document, its committee, the signing staff device and
 * the states it was written against (the tenant chain's length, the committee chain's head).
 */
export interface DocumentSigned {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly documentId: string;
  /** The tenant chain's length the signing device has seen. */
  readonly tenantPosition: number;
  /** The committee chain's head the device wrote against (a newer one makes the record stale). */
  readonly committeeHead: ChainHead;
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  readonly signer: SigningKeyPair;
}

/** A record that extends an existing document chain: where it goes. */
export interface DocumentLinked extends DocumentSigned {
  /** The document chain's link: sequence = its length, previousHash = its head's hash. */
  readonly link: ChainLink;
}

const common = (input: DocumentSigned) => ({
  tenantId: input.tenantId,
  committeeId: input.committeeId,
  documentId: input.documentId,
  tenantPosition: input.tenantPosition,
  committeeHead: input.committeeHead,
});

const writer = (input: DocumentSigned) => ({
  tenantId: input.tenantId,
  documentId: input.documentId,
  signerUserId: input.signerUserId,
  signerDeviceId: input.signerDeviceId,
});

export interface CreateDocumentInput extends DocumentSigned {
  /** The committee's current key epoch. */
  readonly epoch: number;
}

/** `CreateDocument`: a staff device starts a document chain (position 0) in a committee. */
export function createDocumentCommand(
  input: CreateDocumentInput,
  options?: CommandOptions,
): CommandJsonOf<'CreateDocument'> {
  const record = signRecord(
    'document-created',
    unchained,
    { ...common(input), epoch: input.epoch },
    input.signer,
  );
  return toCommandJson(
    'CreateDocument',
    { ...writer(input), committeeId: input.committeeId, record },
    options,
  );
}

export interface VersionInput extends DocumentLinked {
  /** 1 for the first version, then the head version + 1. */
  readonly version: number;
  /** The head version this one is built on; null for the first. */
  readonly parentVersion: number | null;
  /** The key epoch the content key is wrapped under (the committee's current one). */
  readonly epoch: number;
  /** The part-wise hash of the encrypted content (`BlobHasher`). */
  readonly contentHash: Uint8Array;
  /** The encrypted content's size in bytes. */
  readonly size: number;
  /** `keySlotHash` of the key slot holding the wrapped content key. */
  readonly keySlotHash: Uint8Array;
  /** `encryptMetadata` of name, folder, MIME type and times, bound to this version. */
  readonly encryptedMetadata: Uint8Array;
}

/**
 * `CommitVersion`: a staff device commits a version whose content blob and key slot it has
 * uploaded (the service refuses the commit otherwise). The signing device is the author.
 */
export function commitVersionCommand(
  input: VersionInput,
  options?: CommandOptions,
): CommandJsonOf<'CommitVersion'> {
  const record = signRecord(
    'version',
    input.link,
    {
      ...common(input),
      version: input.version,
      parentVersion: input.parentVersion,
      epoch: input.epoch,
      contentHash: input.contentHash,
      size: input.size,
      keySlotHash: input.keySlotHash,
      authorDeviceId: input.signerDeviceId,
      encryptedMetadata: input.encryptedMetadata,
    },
    input.signer,
  );
  return toCommandJson('CommitVersion', { ...writer(input), record }, options);
}

export interface MoveInput extends DocumentLinked {
  /** The epoch of the head version's content key (the metadata is encrypted under that key). */
  readonly epoch: number;
  /** The head version: the new metadata is bound to it. */
  readonly version: number;
  /** `encryptMetadata` of the new name and folder, bound to `version`. */
  readonly encryptedMetadata: Uint8Array;
}

/** `MoveDocument`: a staff device renames or moves a document (new encrypted metadata). */
export function moveDocumentCommand(
  input: MoveInput,
  options?: CommandOptions,
): CommandJsonOf<'MoveDocument'> {
  const record = signRecord(
    'document-moved',
    input.link,
    {
      ...common(input),
      epoch: input.epoch,
      version: input.version,
      encryptedMetadata: input.encryptedMetadata,
    },
    input.signer,
  );
  return toCommandJson('MoveDocument', { ...writer(input), record }, options);
}

/** `DeleteDocument`: a staff device deletes a document (restorable until erased). */
export function deleteDocumentCommand(
  input: DocumentLinked,
  options?: CommandOptions,
): CommandJsonOf<'DeleteDocument'> {
  const record = signRecord('document-deleted', input.link, common(input), input.signer);
  return toCommandJson('DeleteDocument', { ...writer(input), record }, options);
}

/** `RestoreDocument`: a staff device restores a deleted document. */
export function restoreDocumentCommand(
  input: DocumentLinked,
  options?: CommandOptions,
): CommandJsonOf<'RestoreDocument'> {
  const record = signRecord('document-restored', input.link, common(input), input.signer);
  return toCommandJson('RestoreDocument', { ...writer(input), record }, options);
}

/** `EraseDocument`: a staff device erases a document for good (its key slots are destroyed). */
export function eraseDocumentCommand(
  input: DocumentLinked,
  options?: CommandOptions,
): CommandJsonOf<'EraseDocument'> {
  const record = signRecord('document-erased', input.link, common(input), input.signer);
  return toCommandJson('EraseDocument', { ...writer(input), record }, options);
}
