/**
 * The blob-store garbage collector reading its references from the read model (the
 * `blobReferences` projection, formerly blob-store's `referencesFromEventLog`): what a live or
 * deleted document names stays, what an erased one named goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import t from 'tap';
import { BlobKind, GarbageCollector, type BlobRef } from '@ratsfach/blob-store';
import { FsBlobStore } from '@ratsfach/blob-store/fs';
import { openSqliteReadModelStore } from '../src/sqlite/index.js';
import { LoggedScenario } from './loggedScenario.js';
import { hex } from '../src/index.js';

const HOUR = 3600_000;

t.test(
  'collects what only an erased document named, keeps what live and deleted ones name',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ratsfach-rm-gc-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const s = new LoggedScenario().withDocument();
    s.exec(s.createDocument('doc2', 'council', 'alice', 'a1'));
    s.exec(s.commitVersion('doc2', 'alice', 'a1'));
    s.exec(s.createDocument('doc3', 'council', 'alice', 'a1'));
    s.exec(s.commitVersion('doc3', 'alice', 'a1'));
    s.exec(s.deleteDocument('doc2', 'alice', 'a1'));
    s.exec(s.deleteDocument('doc3', 'alice', 'a1'));
    s.exec(s.eraseDocument('doc3', 'alice', 'a1'));
    const readModel = await openSqliteReadModelStore({ path: join(dir, 'rm.sqlite') });
    t.teardown(() => readModel.close());
    await readModel.apply(s.logged, s.logged.at(-1)!.position);

    const store = await FsBlobStore.open({ root: join(dir, 'blobs'), sweepIntervalMs: 0 });
    t.teardown(() => store.close());
    // The objects the versions name, stored two days ago. The scenario's hashes are fake (no
    // content hashes to them), so the files are laid out as the fs store lays them out.
    const refs: Record<string, BlobRef[]> = {};
    for (const e of s.logged) {
      if (e.event.type !== 'VersionCommitted') continue;
      refs[e.streamId] = [
        { tenant: 't1', kind: BlobKind.blob, hash: hex(e.event.data.contentHash) },
        { tenant: 't1', kind: BlobKind.keyslot, hash: hex(e.event.data.keySlotHash) },
      ];
    }
    const stored = Object.values(refs).flat();
    for (const ref of stored) {
      const h = ref.hash;
      const folder = join(store.root, ref.tenant, ref.kind, h.slice(0, 2), h.slice(2, 4));
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, h), new Uint8Array([1, 2, 3]));
      const when = new Date(Date.now() - 48 * HOUR);
      await utimes(join(folder, h), when, when);
    }
    const gc = new GarbageCollector({
      store,
      references: () => readModel.blobReferences(),
      // Condemn and delete in one run (the second grace period only makes refusals rare).
      condemnGraceMs: 0,
      graceMs: 24 * HOUR,
      kinds: [BlobKind.blob, BlobKind.keyslot],
    });
    const report = await gc.collect();
    t.same(
      report.deleted.map((o) => `${o.kind} ${o.hash}`).sort(),
      (refs['doc3'] ?? []).map((r) => `${r.kind} ${r.hash}`).sort(),
      "only the erased document's blob and key slot are collected",
    );
    for (const ref of [...(refs['doc1'] ?? []), ...(refs['doc2'] ?? [])]) {
      t.ok(await store.head(ref), `${ref.kind} of a live or deleted document stays`);
    }
  },
);
