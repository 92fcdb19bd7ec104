/** `@ratsfach/event-store/kurrent`: the adapter for KurrentDB (@kurrent/kurrentdb-client). */
export * from './kurrentEventStore.js';
