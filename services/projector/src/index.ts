export * from './runProjector.js';
export * from './rebuild.js';
export * from './lag.js';
export * from './toProjectedEvent.js';
export * from './worker.js';
export * from './config.js';
