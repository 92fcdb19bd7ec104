/** `@ratsfach/event-store/postgres`: the store on PostgreSQL (pg). */
export * from './postgresEventStore.js';
