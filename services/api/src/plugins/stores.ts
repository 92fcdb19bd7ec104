import fp from 'fastify-plugin';
import type { BlobStore } from '@ratsfach/blob-store';
import type { EventStore } from '@ratsfach/event-store';
import { cryptoReady } from '@ratsfach/crypto';
import { DomainCommands } from '../commands/domainCommands.js';

/** The stores every route area reads and writes; opened and closed by `main.ts` or a test. */
export interface AppStores {
  readonly eventStore: EventStore;
  readonly blobStore: BlobStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly stores: AppStores;
    /** Runs domain commands against `stores.eventStore` (decide, append, idempotent by id). */
    readonly commands: DomainCommands;
  }
}

/** Decorates the app with its stores, so route plugins reach them as `app.stores`. */
export const storesPlugin = fp<{ stores: AppStores }>(
  async (app, options) => {
    // The commands' record verifier needs libsodium loaded.
    await cryptoReady();
    app.decorate('stores', options.stores);
    app.decorate('commands', new DomainCommands(options.stores.eventStore));
  },
  { name: 'ratsfach-stores' },
);
