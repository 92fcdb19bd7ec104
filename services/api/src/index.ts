export * from './apiError.js';
export * from './buildApp.js';
export * from './config.js';
export * from './errorHandler.js';
export * from './logger.js';
export type { AppStores } from './plugins/stores.js';
export type { HealthCheck } from './routes/health/index.js';
