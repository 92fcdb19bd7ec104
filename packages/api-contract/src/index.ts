export * from './apiErrorCode.js';
export * from './auth.js';
export * from './health.js';
export * from './paths.js';
export * from './problem.js';
export * from './route.js';
export * from './uploads.js';
