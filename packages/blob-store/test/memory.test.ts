import t from 'tap';
import { MemoryBlobStore } from '../src/memory/index.js';
import { runBlobStoreContract } from './contract.js';

t.test('the memory store passes the blob store contract', async (t) => {
  await runBlobStoreContract(t, {
    create: async () => new MemoryBlobStore(),
    reopen: async (store) => (store as MemoryBlobStore).reopen(),
  });
});
