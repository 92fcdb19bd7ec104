export * from './errors.js';
export * from './blobRef.js';
export * from './blobStore.js';
export * from './partHash.js';
export * from './uploadRules.js';
export * from './fsBlobStore.js';
export * from './s3BlobStore.js';
