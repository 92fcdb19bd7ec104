/** `@ratsfach/blob-store/fs`: the embedded default, objects as files under one root directory. */
export { FsBlobStore, type FsBlobStoreOptions } from './fsBlobStore.js';
export { FsFaultPoint, type FsFaultHook } from './fsFaultPoint.js';
