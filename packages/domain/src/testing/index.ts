export * from './fakeRecordVerifier.js';
export * from './givenWhenThen.js';
export * from './scenario.js';
export * from './sampleEventData.js';
