// Sending from a staff device end to end: the real service (SQLite log, projector, filesystem
// blobs over HTTP), the real crypto and local state. A staff device's file reaches a member's
// folder; edits, renames and deletions follow; concurrent edits keep both; uploads resume.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { councilWorld, documentWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { syncingDevice } from './support/sendWorld.js';

const put = (folder: string, path: string, content: string | Uint8Array) => {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
};
const read = (folder: string, path: string) => readFileSync(join(folder, path), 'utf8');
const files = (folder: string, sub: string) =>
  readdirSync(join(folder, sub), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(join(folder, sub).length + 1))
    .sort();

t.test('a staff file reaches a member; edit, rename and delete follow', async (t) => {
  const { w, alice, bob } = await councilWorld(t);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  const tablet = syncingDevice(t, w, bob, 'tablet');

  await office.sync();
  put(office.folder, 'council/Sitzung 1/Tagesordnung.txt', 'TOP 1: Haushalt');
  const first = await office.sync();
  t.match(first.send, { sent: 1, conflicts: [], failed: [], refused: [], waiting: 0 });
  t.equal(office.state.queue().length, 0, 'the queue is drained');
  t.match(office.state.index(), [{ path: 'council/Sitzung 1/Tagesordnung.txt', version: 1 }]);

  await tablet.sync();
  t.equal(read(tablet.folder, 'council/Sitzung 1/Tagesordnung.txt'), 'TOP 1: Haushalt');

  // The staff device's next sync reads its own version back verified and changes nothing.
  const quiet = await office.sync();
  t.match(quiet, { applied: 0, queued: 0, send: { sent: 0 } });

  put(office.folder, 'council/Sitzung 1/Tagesordnung.txt', 'TOP 1: Haushalt\nTOP 2: Schulen');
  t.match((await office.sync()).send, { sent: 1 });
  t.match(office.state.index(), [{ version: 2 }], 'an edit is version 2');
  await tablet.sync();
  t.equal(
    read(tablet.folder, 'council/Sitzung 1/Tagesordnung.txt'),
    'TOP 1: Haushalt\nTOP 2: Schulen',
  );
  const history = await w.head(`document-t1-${office.state.index()[0]!.documentId}`);
  t.equal(history.length, 3, 'created, version 1, version 2');

  renameSync(
    join(office.folder, 'council/Sitzung 1/Tagesordnung.txt'),
    join(office.folder, 'council/Tagesordnung final.txt'),
  );
  const moved = await office.sync();
  t.match(moved.send, { sent: 1 });
  t.match(office.state.index(), [{ path: 'council/Tagesordnung final.txt', version: 2 }]);
  await tablet.sync();
  t.same(files(tablet.folder, 'council'), ['Tagesordnung final.txt'], 'the move is a move');
  t.equal(read(tablet.folder, 'council/Tagesordnung final.txt'), 'TOP 1: Haushalt\nTOP 2: Schulen');

  rmSync(join(office.folder, 'council/Tagesordnung final.txt'));
  const deleted = await office.sync();
  t.match(deleted.send, { sent: 1 });
  t.same(office.state.index(), []);
  await tablet.sync();
  t.notOk(existsSync(join(tablet.folder, 'council/Tagesordnung final.txt')), 'deleted there too');
});

/** alice and carol are staff of `council`, bob a reader; epoch 0 for all three; a heartbeat. */
const twoStaffWorld = async (t: Parameters<typeof documentWorld>[0]) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  const carol = await w.person('t1', 'carol', 'c1');
  const bob = await w.person('t1', 'bob', 'b1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(carol, 'council', 'staff', alice);
  await w.addMember(bob, 'council', 'reader', alice);
  await w.startEpoch(alice, 'council', 0, [alice, carol, bob]);
  await w.heartbeat('t1');
  return { w, alice, carol, bob };
};

t.test(
  'two staff devices edit one document: one version lands, the other is a conflict copy',
  async (t) => {
    const { w, alice, carol } = await twoStaffWorld(t);
    const office = syncingDevice(t, w, alice, 'office');
    const laptop = syncingDevice(t, w, carol, 'laptop');
    await office.sync();
    put(office.folder, 'council/Antrag.txt', 'Antrag v1');
    await office.sync();
    await laptop.sync();
    t.equal(read(laptop.folder, 'council/Antrag.txt'), 'Antrag v1');

    // Pulled first: carol's plan sees alice's version and keeps her edit as a conflict copy.
    put(office.folder, 'council/Antrag.txt', 'Antrag: Alices Fassung');
    put(laptop.folder, 'council/Antrag.txt', 'Antrag: Carols Fassung');
    t.match((await office.sync()).send, { sent: 1, conflicts: [] }, 'alice commits first');
    const planned = await laptop.sync();
    t.match(planned.send, { sent: 1, conflicts: [], waiting: 0 }, 'the copy went out');
    const day = new Date().toISOString().slice(0, 10);
    const copy = `Antrag (conflict, laptop, ${day}).txt`;
    t.same(files(laptop.folder, 'council'), [copy, 'Antrag.txt'].sort());
    t.equal(read(laptop.folder, 'council/Antrag.txt'), 'Antrag: Alices Fassung');
    t.equal(read(laptop.folder, `council/${copy}`), 'Antrag: Carols Fassung');

    // A real race: alice commits after carol planned, before carol's commit reaches the service.
    put(office.folder, 'council/Antrag.txt', 'Antrag: Alices zweite Fassung');
    put(laptop.folder, 'council/Antrag.txt', 'Antrag: Carols zweite Fassung');
    let raced = false;
    const late = await laptop.sync({
      afterPart: async () => {
        if (raced) return;
        raced = true;
        t.match((await office.sync()).send, { sent: 1 }, 'alice wins the race');
      },
    });
    t.same(late.send.failed, []);
    t.equal(late.send.conflicts.length, 1, 'carol met the 409');
    t.equal(late.send.sent, 1, 'and sent her edit as a conflict copy in the same sync');
    t.same(late.failed, []);
    const copy2 = `Antrag (conflict, laptop, ${day} 2).txt`;
    t.same(files(laptop.folder, 'council'), [copy, copy2, 'Antrag.txt'].sort());
    t.equal(read(laptop.folder, 'council/Antrag.txt'), 'Antrag: Alices zweite Fassung');
    t.equal(read(laptop.folder, `council/${copy2}`), 'Antrag: Carols zweite Fassung');

    await office.sync();
    t.same(
      files(office.folder, 'council'),
      [copy, copy2, 'Antrag.txt'].sort(),
      'all files on both',
    );
    t.equal(read(office.folder, `council/${copy2}`), 'Antrag: Carols zweite Fassung');
    t.equal(office.state.queue().length + laptop.state.queue().length, 0);
  },
);

t.test('an interrupted upload resumes at the parts the server has', async (t) => {
  const { w, alice, bob } = await councilWorld(t);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  const tablet = syncingDevice(t, w, bob, 'tablet');
  await office.sync();
  // 17 MiB of plaintext: three 8 MiB parts of ciphertext.
  const big = new Uint8Array(17 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
  put(office.folder, 'council/Haushalt.pdf', big);

  const stop = new Error('the connection dropped');
  const broken = await office.sync({
    afterPart: async (index) => {
      if (index === 0) throw stop;
    },
  });
  t.match(broken.send, { sent: 0, waiting: 1 }, 'the change waits');
  t.match(broken.send.failed, [{ path: 'council/Haushalt.pdf' }]);
  const transfer = office.state.transfer(
    `up:council/Haushalt.pdf@${office.state.queue()[0]!.payload.hash as string}`,
  );
  t.ok(transfer?.sessionId, 'the session is remembered');
  t.equal(transfer?.done, 8 * 1024 * 1024, 'one part is on the server');

  const parts: number[] = [];
  const resumed = await office.sync({ afterPart: async (index) => void parts.push(index) });
  t.match(resumed.send, { sent: 1, waiting: 0 });
  t.same(parts, [1, 2], 'only the missing parts went out');
  await tablet.sync();
  t.ok(
    Buffer.from(readFileSync(join(tablet.folder, 'council/Haushalt.pdf'))).equals(big),
    'same bytes',
  );
});

t.test(
  'an interrupted upload of a file changed since starts over from the new content',
  async (t) => {
    const { w, alice, bob } = await councilWorld(t);
    await w.heartbeat('t1');
    const office = syncingDevice(t, w, alice, 'office');
    const tablet = syncingDevice(t, w, bob, 'tablet');
    await office.sync();
    const big = new Uint8Array(9 * 1024 * 1024).fill(7);
    put(office.folder, 'council/Plan.bin', big);
    await office.sync({
      afterPart: async () => {
        throw new Error('killed');
      },
    });
    big.fill(9);
    put(office.folder, 'council/Plan.bin', big);
    const parts: number[] = [];
    const again = await office.sync({ afterPart: async (index) => void parts.push(index) });
    t.match(again.send, { sent: 1, waiting: 0, failed: [] });
    t.same(parts, [0, 1], 'every part of the new content went out');
    t.same(
      office.state.index().map((e) => e.version),
      [1],
    );
    await tablet.sync();
    t.ok(
      Buffer.from(readFileSync(join(tablet.folder, 'council/Plan.bin'))).equals(big),
      'the new bytes',
    );
  },
);
