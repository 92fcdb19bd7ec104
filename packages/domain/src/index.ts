export * from './errors.js';
export * from './streamName.js';
export * from './decider.js';
export * from './signedRecord.js';
