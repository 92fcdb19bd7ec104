/** `@ratsfach/event-store/memory`: the event store in memory, for tests only. */
export * from './memoryEventStore.js';
