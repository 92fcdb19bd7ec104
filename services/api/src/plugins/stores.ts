import fp from 'fastify-plugin';
import type { BlobStore } from '@ratsfach/blob-store';
import type { EventStore } from '@ratsfach/event-store';

/** The stores every route area reads and writes; opened and closed by `main.ts` or a test. */
export interface AppStores {
  readonly eventStore: EventStore;
  readonly blobStore: BlobStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly stores: AppStores;
  }
}

/** Decorates the app with its stores, so route plugins reach them as `app.stores`. */
export const storesPlugin = fp<{ stores: AppStores }>(
  async (app, options) => {
    app.decorate('stores', options.stores);
  },
  { name: 'ratsfach-stores' },
);
