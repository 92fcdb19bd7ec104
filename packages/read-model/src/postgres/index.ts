/** `@ratsfach/read-model/postgres`: the read models on PostgreSQL (pg). */
export * from './postgresReadModelStore.js';
export * from './checkpointChannel.js';
export * from './postgresCheckpointListener.js';
