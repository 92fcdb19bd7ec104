export type { ContentBinding, KeySlotBinding } from './binding.js';
export { toReadableStream, type ByteSource } from './byteSource.js';
export { BlobHasher, blobHash, blobPartSize, blobRootHash, type BlobDigest } from './blobHasher.js';
export {
  BlobMismatchError,
  ContentStreamError,
  KeySlotError,
  MetadataError,
} from './contentErrors.js';
export { chunkSize, contentHeaderSize, encryptedSize, plaintextSizeOf } from './contentFormat.js';
export { contentKeyLength, generateContentKey } from './contentKey.js';
export { decryptContent, decryptContentToSink } from './decryptContent.js';
export { encryptContent, type ContentParams } from './encryptContent.js';
export { hashBlobWhileReading, type HashedBlob } from './hashedBlob.js';
export { checkKeySlotHash, keySlotHash, keySlotSize, openKeySlot, sealKeySlot } from './keySlot.js';
export {
  decryptMetadata,
  encryptMetadata,
  metadataHash,
  openSignedMetadata,
  type DocumentMetadata,
} from './metadata.js';
export {
  openVersionContent,
  type OpenVersionParams,
  type SignedContentFacts,
} from './openVersionContent.js';
export { MemorySink, type PlaintextSink } from './plaintextSink.js';
