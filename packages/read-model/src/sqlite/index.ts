export * from './sqliteReadModelStore.js';
