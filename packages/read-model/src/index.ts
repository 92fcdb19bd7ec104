export * from './readModelStore.js';
export * from './readModelErrors.js';
export * from './cursor.js';
export * from './tables.js';
export * from './projections/index.js';
export * from './memoryRows.js';
