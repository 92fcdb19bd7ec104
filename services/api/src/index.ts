export * from './buildApp.js';
export * from './config.js';
export * from './errorHandler.js';
export * from './logger.js';
export type { HealthCheck } from './routes/health.js';
