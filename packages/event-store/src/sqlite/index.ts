/** `@ratsfach/event-store/sqlite`: the embedded store on one SQLite file (better-sqlite3). */
export * from './sqliteEventStore.js';
export * from './worker/sqliteWorkerEventStore.js';
