/**
 * The event store's port, the rules every backend shares and the command handler. No database
 * driver is loaded from here: each backend has its own entry point
 * (`@ratsfach/event-store/sqlite`, `/postgres`, `/kurrent`, `/memory`).
 */
export * from './expectedRevision.js';
export * from './eventStore.js';
export * from './errors.js';
export * from './shared/eventHash.js';
export * from './shared/eventId.js';
export * from './shared/appendValidation.js';
export * from './shared/chainEvents.js';
export * from './shared/commandReplay.js';
export * from './shared/chainVerifier.js';
export * from './commandHandler.js';
