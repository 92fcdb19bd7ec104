import t from 'tap';
import { MemoryBlobStore } from '../src/memory/index.js';
import { runBlobStoreContract } from './contract.js';
import { runIntegrityContract } from './integrityContract.js';

t.test('the memory store passes the blob store contract', async (t) => {
  await runBlobStoreContract(t, {
    create: async () => new MemoryBlobStore(),
    reopen: async (store) => (store as MemoryBlobStore).reopen(),
  });
});

t.test('the memory store keeps the integrity contract', async (t) => {
  await runIntegrityContract(
    t,
    {
      create: async () => new MemoryBlobStore(),
      reopen: async (store) => (store as MemoryBlobStore).reopen(),
    },
    { trials: 60 },
  );
});
