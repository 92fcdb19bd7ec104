export * from './readModelStore.js';
export * from './readModelErrors.js';
export * from './cursor.js';
