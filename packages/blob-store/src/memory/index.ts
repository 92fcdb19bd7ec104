/** `@ratsfach/blob-store/memory`: the in-memory blob store, for tests only. */
export { MemoryBlobStore, type MemoryBlobStoreOptions } from './memoryBlobStore.js';
