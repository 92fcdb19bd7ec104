export * from './errors.js';
export * from './sodium.js';
export * from './hash.js';
export * from './suite.js';
