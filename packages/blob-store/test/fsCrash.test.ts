import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BlobErrorCode, BlobKind, BlobSessionNotFoundError, hashBlobHex } from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';
import { hashStream, rejectsWith } from './contract.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const PART = 1024 * 1024;

interface Run {
  readonly sessionId: string | undefined;
  readonly reached: boolean;
}

/** Runs the child until it prints `at <point>`, then kills it with SIGKILL. */
async function runAndKill(
  root: string,
  input: string,
  tenant: string,
  point: string,
  hit: number,
  mode: 'session' | 'put',
): Promise<Run> {
  const child = spawn(
    'bash',
    [
      join(repo, 'scripts/run-ts.sh'),
      join(here, 'fixtures/fsCrashChild.ts'),
      root,
      input,
      tenant,
      point,
      String(hit),
      mode,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((res) =>
    child.on('exit', (_code, signal) => res(signal)),
  );
  let sessionId: string | undefined;
  let reached = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('session ')) sessionId = line.slice(8);
    if (line === `at ${point}`) {
      reached = true;
      child.kill('SIGKILL');
      break;
    }
  }
  const signal = await exited;
  if (reached && signal !== 'SIGKILL') throw new Error(`child ended with ${String(signal)}`);
  return { sessionId, reached };
}

const cases = [
  { point: 'midStream', hit: 1, mode: 'session', partsLeft: [] },
  { point: 'partWritten', hit: 1, mode: 'session', partsLeft: [] },
  { point: 'partMarked', hit: 1, mode: 'session', partsLeft: [0] },
  { point: 'midStream', hit: 2, mode: 'session', partsLeft: [0] },
  { point: 'partWritten', hit: 2, mode: 'session', partsLeft: [0] },
  { point: 'beforeLink', hit: 1, mode: 'session', partsLeft: [0, 1] },
  { point: 'afterLink', hit: 1, mode: 'session', partsLeft: null },
  { point: 'midStream', hit: 1, mode: 'put', partsLeft: null },
  { point: 'putSynced', hit: 1, mode: 'put', partsLeft: null },
  { point: 'putRenamed', hit: 1, mode: 'put', partsLeft: null },
] as const;

t.test('a process killed with SIGKILL at any point leaves no partial object visible', async (t) => {
  for (const c of cases) {
    t.test(`killed at ${c.point} #${c.hit} of a ${c.mode}`, async (t) => {
      const root = await mkdtemp(join(tmpdir(), 'ratsfach-crash-'));
      t.teardown(() => rm(root, { recursive: true, force: true }));
      const bytes = randomBytes(PART + PART / 2);
      const input = join(root, '..', `${root.split('/').pop() ?? 'x'}.input`);
      await writeFile(input, bytes);
      t.teardown(() => rm(input, { force: true }));
      const tenant = 'crash_tenant';
      const hash = hashBlobHex(bytes, PART);
      const ref = { tenant, kind: BlobKind.blob, hash };

      const run = await runAndKill(root, input, tenant, c.point, c.hit, c.mode);
      t.ok(run.reached, `the child reached ${c.point} and was killed there`);

      const store = await FsBlobStore.open({ root, partSize: PART });
      t.teardown(() => store.close());
      await store.recover();
      t.same(await readdir(join(root, '.tmp')), [], 'temporary files are gone after restart');
      const objects = [];
      for await (const o of store.list(tenant, BlobKind.blob)) objects.push(o);

      if (c.point === 'putRenamed') {
        // Renamed, so visible, but only after its bytes were synced: whole, never partial.
        t.equal(objects.length, 1, 'the object renamed into place before the kill is visible');
        t.same(
          await hashStream((await store.get(ref)).body, PART),
          { hash, size: bytes.length },
          'with all its bytes',
        );
        const info = await store.put({ ...ref, size: bytes.length }, [bytes]);
        t.equal(info.size, bytes.length, 'a retried put of the same object succeeds');
        t.same(
          await hashStream((await store.get(ref)).body, PART),
          { hash, size: bytes.length },
          'and the object still holds the same bytes',
        );
        return;
      }
      if (c.point === 'afterLink') {
        t.equal(objects.length, 1, 'the object linked before the kill is visible');
        t.same(
          await hashStream((await store.get(ref)).body, PART),
          { hash, size: bytes.length },
          'with all its bytes',
        );
        await rejectsWith(
          t,
          store.putPart(tenant, run.sessionId ?? '', 0, [bytes.subarray(0, PART)]),
          BlobSessionNotFoundError,
          BlobErrorCode.sessionNotFound,
          'the completed session cannot be written again',
        );
        const again = await store.completeSession(tenant, run.sessionId ?? '');
        t.equal(again.size, bytes.length, 'completing it again returns the object');
        return;
      }
      t.same(objects, [], 'no object is visible');
      t.equal(await store.head(ref), null, 'head finds nothing');

      if (c.partsLeft === null) {
        const info = await store.put({ ...ref, size: bytes.length }, [bytes]);
        t.equal(info.size, bytes.length, 'the put succeeds when retried');
        return;
      }
      const sessionId = run.sessionId ?? '';
      const parts = await store.listParts(tenant, sessionId);
      t.same(
        parts.map((p) => p.index),
        c.partsLeft,
        'only the parts finished before the kill are present',
      );
      for (let i = 0; i < 2; i++) {
        if (parts.some((p) => p.index === i)) continue;
        await store.putPart(tenant, sessionId, i, [bytes.subarray(i * PART, (i + 1) * PART)]);
      }
      await store.completeSession(tenant, sessionId);
      t.same(
        await hashStream((await store.get(ref)).body, PART),
        { hash, size: bytes.length },
        'the resumed session completes with the right bytes',
      );
    });
  }
});
