/**
 * `@ratsfach/blob-store`: the port, blob refs, errors, upload rules, the part hash and the
 * garbage collector. Backends live at subpaths (`/fs`, `/s3`, `/memory`), so importing the port
 * loads no backend (in particular not the minio client).
 */
export * from './errors.js';
export * from './blobRef.js';
export * from './blobStore.js';
export * from './partHash.js';
export * from './uploadRules.js';
export * from './garbageCollector.js';
export * from './blobGcLedger.js';
export * from './blobCommitGuard.js';
