import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FsBlobStore } from '../src/index.js';
import { runBlobStoreContract } from './contract.js';

const roots: string[] = [];
t.teardown(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const roots_of = new WeakMap<object, string>();

t.test('the filesystem adapter passes the blob store contract', async (t) => {
  await runBlobStoreContract(t, {
    async create() {
      const root = await mkdtemp(join(tmpdir(), 'ratsfach-blob-'));
      roots.push(root);
      const store = await FsBlobStore.open({ root });
      roots_of.set(store, root);
      return store;
    },
    async reopen(store) {
      return FsBlobStore.open({ root: roots_of.get(store) as string });
    },
  });
});
