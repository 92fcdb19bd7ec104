export * from './postgresReadModelStore.js';
