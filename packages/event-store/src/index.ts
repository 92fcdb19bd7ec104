export * from './expectedRevision.js';
export * from './eventStore.js';
