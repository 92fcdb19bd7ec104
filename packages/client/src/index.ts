export * from './http/apiClient.js';
export * from './records/committeeRecords.js';
export * from './records/documentRecords.js';
export * from './records/keyRecords.js';
export * from './records/tenantRecords.js';
export * from './records/toCommandJson.js';
export * from './records/userRecords.js';
