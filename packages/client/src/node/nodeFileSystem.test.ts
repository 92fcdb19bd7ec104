import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { engineFolder, NodeFileSystem, plaintextHash, resolveInside } from './nodeFileSystem.js';

const tree = (): string => mkdtempSync(join(tmpdir(), 'ratsfach-tree-'));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

t.test('writes atomically, creating folders, and leaves no temp file', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  const hash = await fs.writeAtomic('A/sub/x.txt', bytes('hello'), Date.UTC(2026, 0, 2));
  t.equal(readFileSync(join(root, 'A/sub/x.txt'), 'utf8'), 'hello');
  t.equal(hash, plaintextHash(bytes('hello')));
  t.equal(
    statSync(join(root, 'A/sub/x.txt')).mtimeMs,
    Date.UTC(2026, 0, 2),
    'keeps the signed time',
  );
  t.same(readdirSync(join(root, engineFolder, 'tmp')), []);
  async function* parts() {
    yield bytes('a');
    yield bytes('bc');
  }
  await fs.writeAtomic('A/sub/x.txt', parts());
  t.equal(readFileSync(join(root, 'A/sub/x.txt'), 'utf8'), 'abc', 'replaces the old file');
});

t.test('a failed write leaves the old file and no temp file', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  mkdirSync(join(root, 'A/dir'), { recursive: true });
  await t.rejects(fs.writeAtomic('A/dir', bytes('x')), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  t.same(readdirSync(join(root, engineFolder, 'tmp')), []);
  async function* failing() {
    yield bytes('half');
    throw new Error('download broke');
  }
  await fs.writeAtomic('A/y.txt', bytes('old'));
  await t.rejects(fs.writeAtomic('A/y.txt', failing()), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  t.equal(readFileSync(join(root, 'A/y.txt'), 'utf8'), 'old');
  t.same(readdirSync(join(root, engineFolder, 'tmp')), []);
});

t.test('a staged file is hashed as written, placed once, and discarded otherwise', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  const tmp = join(root, engineFolder, 'tmp');
  const staged = await fs.stage();
  await staged.write(bytes('Tages'));
  await staged.write(bytes('ordnung'));
  t.throws(() => staged.hash, { code: 'RATSFACH_SYNC_FILE_SYSTEM' }, 'no hash before commit');
  await t.rejects(staged.place('A/early.txt'), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  t.notOk(existsSync(join(root, 'A/early.txt')), 'nothing placed before commit');
  await staged.commit();
  t.equal(staged.hash, plaintextHash(bytes('Tagesordnung')));
  t.equal(staged.size, 12);
  await t.rejects(staged.write(bytes('more')), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  t.equal(readdirSync(tmp).length, 1, 'it waits in the engine folder, not in the tree');
  t.same((await fs.scan()).files, [], 'the scan does not see it');
  await staged.place('A/b/agenda.txt', Date.UTC(2026, 0, 2));
  t.equal(readFileSync(join(root, 'A/b/agenda.txt'), 'utf8'), 'Tagesordnung');
  t.equal(statSync(join(root, 'A/b/agenda.txt')).mtimeMs, Date.UTC(2026, 0, 2));
  await t.rejects(staged.place('A/again.txt'), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  await staged.discard();
  t.equal(readFileSync(join(root, 'A/b/agenda.txt'), 'utf8'), 'Tagesordnung', 'placed stays');
  t.same(readdirSync(tmp), []);

  const dropped = await fs.stage();
  await dropped.write(bytes('never placed'));
  await dropped.commit();
  await dropped.discard();
  await dropped.discard();
  t.same(readdirSync(tmp), [], 'a discarded file is gone');
  const aborted = await fs.stage();
  await aborted.write(bytes('half'));
  await aborted.abort(new Error('chunk 2 did not verify'));
  t.same(readdirSync(tmp), [], 'an aborted file is gone');
  await t.rejects(aborted.write(bytes('x')), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  const stray = await fs.stage();
  await stray.commit();
  await t.rejects(
    stray.place('../out.txt'),
    { code: 'RATSFACH_SYNC_PATH_OUTSIDE_TREE' },
    'a staged file never leaves the tree',
  );
  await stray.discard();
  t.same(readdirSync(tmp), []);
});

t.test('refuses paths out of the tree and names a file system cannot hold', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  for (const bad of ['../x', '/etc/passwd', 'A//x', 'A/./x', '', `${engineFolder}/tmp/x`]) {
    await t.rejects(
      fs.writeAtomic(bad, bytes('x')),
      { code: 'RATSFACH_SYNC_PATH_OUTSIDE_TREE' },
      bad,
    );
  }
  for (const bad of ['A/a:b.txt', 'A/what?.txt', 'A/trailing.', 'A/' + 'n'.repeat(256)]) {
    await t.rejects(
      fs.writeAtomic(bad, bytes('x')),
      { code: 'RATSFACH_SYNC_UNSUPPORTED_NAME' },
      bad,
    );
  }
  t.equal(resolveInside(root, 'A/ok name.txt'), join(root, 'A', 'ok name.txt'));
  t.same(
    readdirSync(root).filter((n) => n !== engineFolder),
    [],
    'nothing was written',
  );
});

t.test(
  'scans with hashes, skips its own folder and links, reports bad names and goes on',
  async (t) => {
    const root = tree();
    const fs = new NodeFileSystem(root);
    mkdirSync(join(root, 'A/deep'), { recursive: true });
    writeFileSync(join(root, 'A/deep/one.txt'), 'one');
    writeFileSync(join(root, 'A/bad:name.txt'), 'two');
    writeFileSync(join(root, 'top.txt'), 'three');
    symlinkSync('/etc/hostname', join(root, 'A/link'));
    await fs.writeAtomic('A/x.txt', bytes('x'));
    mkdirSync(join(root, engineFolder, 'tmp'), { recursive: true });
    writeFileSync(join(root, engineFolder, 'tmp', 'left.part'), 'secret');
    const result = await fs.scan();
    t.same(
      result.files.map((f) => [f.path, f.size, f.hash]),
      [
        ['A/deep/one.txt', 3, plaintextHash(bytes('one'))],
        ['A/x.txt', 1, plaintextHash(bytes('x'))],
        ['top.txt', 5, plaintextHash(bytes('three'))],
      ],
    );
    t.match(result.problems, [{ path: 'A/bad:name.txt', code: 'RATSFACH_SYNC_UNSUPPORTED_NAME' }]);
    t.ok(result.problems[0]?.hint.length, 'the problem says what to do');
    const again = await fs.scan();
    t.same(again.files, result.files, 'a rescan gives the same result from the cache');
    await fs.recover();
    t.notOk(existsSync(join(root, engineFolder, 'tmp')), 'recover removes what a crash left');
  },
);

t.test('a scan hashes a file of many chunks as the whole bytes hash', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251);
  await fs.writeAtomic('A/scan.pdf', big);
  const [file] = (await fs.scan()).files;
  t.match(file, { path: 'A/scan.pdf', hash: plaintextHash(big), size: big.length });
  t.equal((await fs.readStable('A/scan.pdf')).hash, file?.hash, 'scan and read agree');
});

t.test('a scan of a missing root reports it', async (t) => {
  const fs = new NodeFileSystem(join(tree(), 'missing'));
  const result = await fs.scan();
  t.same(result.files, []);
  t.match(result.problems, [{ path: '', code: 'RATSFACH_SYNC_FILE_SYSTEM', message: /ENOENT/ }]);
});

t.test('a file that changes while read is read again, never returned torn', async (t) => {
  const root = tree();
  let changes = 2;
  const fs = new NodeFileSystem(root, {
    retryDelayMs: 1,
    afterRead: async (path) => {
      if (changes-- > 0) appendFileSync(join(root, path), '+');
    },
  });
  writeFileSync(join(root, 'x.txt'), 'abc');
  const read = await fs.readStable('x.txt');
  t.equal(new TextDecoder().decode(read.bytes), 'abc++', 'the settled content');
  t.equal(read.hash, plaintextHash(read.bytes));

  const restless = new NodeFileSystem(root, {
    readAttempts: 3,
    retryDelayMs: 1,
    afterRead: async (path) => appendFileSync(join(root, path), '+'),
  });
  await t.rejects(restless.readStable('x.txt'), { code: 'RATSFACH_SYNC_FILE_UNSTABLE' });
  const scan = await restless.scan();
  t.same(scan.files, []);
  t.match(scan.problems, [{ path: 'x.txt', code: 'RATSFACH_SYNC_FILE_UNSTABLE' }]);
  await t.rejects(fs.readStable('gone.txt'), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
});

t.test('renames within the tree, never over a file, and removes emptied folders', async (t) => {
  const root = tree();
  const fs = new NodeFileSystem(root);
  await fs.writeAtomic('A/old/x.txt', bytes('x'));
  await fs.writeAtomic('A/y.txt', bytes('y'));
  await fs.rename('A/old/x.txt', 'A/new/deeper/x.txt');
  t.equal(readFileSync(join(root, 'A/new/deeper/x.txt'), 'utf8'), 'x');
  t.notOk(existsSync(join(root, 'A/old')), 'the emptied folder is gone');
  await t.rejects(fs.rename('A/y.txt', 'A/new/deeper/x.txt'), {
    code: 'RATSFACH_SYNC_FILE_SYSTEM',
    message: /EEXIST/,
  });
  await t.rejects(fs.rename('A/missing.txt', 'A/z.txt'), { code: 'RATSFACH_SYNC_FILE_SYSTEM' });
  t.ok(await fs.exists('A/y.txt'));
  await fs.remove('A/new/deeper/x.txt');
  await fs.remove('A/new/deeper/x.txt');
  t.notOk(existsSync(join(root, 'A/new')), 'removal prunes empty folders');
  t.ok(existsSync(join(root, 'A/y.txt')), 'but not the ones still holding files');
  t.notOk(await fs.exists('A/nothing.txt'));
  await t.rejects(fs.exists('../x'), { code: 'RATSFACH_SYNC_PATH_OUTSIDE_TREE' });
});
