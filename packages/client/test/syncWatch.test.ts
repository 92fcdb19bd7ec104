// `ratsfach sync DIR --watch` end to end: the real service (records, manifest, documents, push),
// real crypto and stores, a member device's profile; a proxy in front plays a dead, buffering or
// lying server. The watch runs in-process through runCli (one test spawns the real command).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { fingerprint, minimumArgon2id } from '@ratsfach/crypto';
import { councilWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { buildTestApp } from '../../../services/api/test/helpers/buildTestApp.js';
import { SqliteServiceState } from '../../../services/api/src/state/sqliteServiceState.js';
import type { CliContext } from '../src/cli/cliContext.js';
import { ExitCode } from '../src/cli/output.js';
import { createProfile, ProfileKind, profileKeysPath } from '../src/cli/profile.js';
import { runCli } from '../src/cli/program.js';
import { syncStateFile } from '../src/sync/syncStateFile.js';
import { tempDir } from './support/cliHarness.js';

const text = (s: string) => new TextEncoder().encode(s);
const passphrase = 'bob device passphrase';
/** Where version `n` of doc1 lives: the world names each version `Protokoll <n>.txt`. */
const docPath = (n = 1) => join('council', 'Protokolle', `Protokoll ${n}.txt`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (what: () => boolean, ms = 20_000, label = 'condition') => {
  for (let i = 0; i < ms / 20 && !what(); i++) await sleep(20);
  if (!what()) throw new Error(`timed out waiting for ${label}`);
};
const fileText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : null);

type ProxyMode = 'pass' | 'noStream' | 'buffer' | 'liar';

/**
 * The council world served by an app that has every area (records need the service state),
 * behind a proxy on a fixed port whose behaviour the test switches; bob's profile points at it.
 */
async function watchWorld(t: { teardown(fn: () => unknown): void }) {
  const world = await councilWorld(t);
  const { w, alice, epochKey } = world;
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('Fassung 1'));
  await w.settled();
  const serviceState = SqliteServiceState.open(join(await tempDir(t), 'service-state.sqlite'));
  t.teardown(() => serviceState.close());
  let app: Awaited<ReturnType<typeof buildTestApp>> | null = null;
  let appPort = 0;
  const startApp = async () => {
    app = await buildTestApp(t, {
      stores: { eventStore: w.eventStore, blobStore: w.blobStore },
      readModel: w.readModel,
      serviceState,
    });
    await app.listen({ host: '127.0.0.1', port: appPort });
    appPort = (app.server.address() as AddressInfo).port;
  };
  await startApp();

  let mode: ProxyMode = 'pass';
  const proxy: Server = createServer((req, res) => {
    const path = req.url ?? '';
    const isStream = path.endsWith('/events');
    const refuse = () => {
      res.writeHead(403, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Forbidden',
          status: 403,
          detail: "this device's certificate is revoked",
          instance: '',
          code: ApiErrorCode.deviceNotInGoodStanding,
        }),
      );
    };
    if (isStream && mode === 'noStream') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('no streams here');
      return;
    }
    if (isStream && mode === 'buffer') {
      // A proxy that buffers event streams: headers, then nothing.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return;
    }
    if (mode === 'liar' && !/\/login\/(challenge|chains)$/.test(path)) {
      refuse();
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: appPort, path, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  t.teardown(() => {
    proxy.closeAllConnections();
    proxy.close();
  });
  const serverUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const profile = join(await tempDir(t), 'bob');
  await createProfile(
    profile,
    {
      kind: ProfileKind.member,
      serverUrl,
      tenantId: 't1',
      userId: 'bob',
      deviceId: 'b1',
      createdAt: new Date().toISOString(),
      rootFingerprint: fingerprint(w.rootKey('t1')),
    },
    world.bob.keys,
    passphrase,
    minimumArgon2id,
  );
  const folder = mkdtempSync(join(tmpdir(), 'ratsfach-watch-'));
  t.teardown(() => rmQuiet(folder));
  let version = 1;
  return {
    ...world,
    profile,
    folder,
    serverUrl,
    setMode: (next: ProxyMode) => {
      mode = next;
      proxy.closeAllConnections();
    },
    stopApp: async () => {
      await app?.close();
      app = null;
    },
    startApp,
    /** Alice commits the next version of doc1 through the world's own app. */
    commit: async (content: string) => {
      version += 1;
      await w.commitPlaintext(
        alice,
        'council',
        'doc1',
        version,
        version - 1,
        0,
        epochKey,
        text(content),
      );
      await w.settled();
    },
  };
}

function rmQuiet(path: string) {
  rmSync(path, { recursive: true, force: true });
}

interface WatchLine {
  readonly event: string;
  readonly ok?: boolean;
  readonly reasons?: string[];
  readonly applied?: number;
  readonly fetched?: number;
  readonly [key: string]: unknown;
}

/**
 * `ratsfach --json sync <folder> --watch` in-process, its JSON lines as they come. Stopped in the
 * test's teardown whatever happens: a watch left running by a failed assertion never lets the
 * file end.
 */
function startWatch(
  t: { teardown(fn: () => unknown): void },
  profile: string,
  folder: string,
  extra: string[] = [],
) {
  const controller = new AbortController();
  const lines: WatchLine[] = [];
  let buffer = '';
  let stderr = '';
  const context: CliContext = {
    env: { RATSFACH_PASSPHRASE: passphrase },
    stdout: {
      write: (chunk: string) => {
        buffer += chunk;
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          lines.push(JSON.parse(buffer.slice(0, i)) as WatchLine);
          buffer = buffer.slice(i + 1);
        }
      },
    },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    home: '/nonexistent-home',
    platform: 'linux',
    now: () => new Date(),
    onStop: (stop) => {
      controller.signal.addEventListener('abort', stop);
      return () => controller.signal.removeEventListener('abort', stop);
    },
  };
  const exit = runCli(
    ['--profile', profile, '--json', 'sync', folder, '--watch', '--poll-seconds', '0.3', ...extra],
    context,
  );
  t.teardown(async () => {
    controller.abort();
    await exit;
  });
  const find = (what: (line: WatchLine) => boolean, from = 0) => lines.slice(from).find(what);
  return {
    lines,
    exit,
    stderr: () => stderr,
    stop: () => controller.abort(),
    /** Waits for a line after the `from`th that matches. */
    waitFor: async (what: (line: WatchLine) => boolean, from = 0, label = 'a line') => {
      await until(() => find(what, from) !== undefined, 20_000, label);
      return find(what, from)!;
    },
  };
}

const passWith = (reason: string) => (line: WatchLine) =>
  line.event === 'pass' && line.ok === true && (line.reasons ?? []).includes(reason);

t.test(
  'a watch writes staff commits as they come, sees local files, restarts, stops on SIGINT',
  async (t) => {
    const world = await watchWorld(t);
    const watch = startWatch(t, world.profile, world.folder);
    const first = await watch.waitFor(passWith('start'), 0, 'the first pass');
    t.match(first, { fetched: 1, applied: 1 });
    t.equal(fileText(join(world.folder, docPath(1))), 'Fassung 1');
    await watch.waitFor((l) => l.event === 'live', 0, 'the stream');
    // The stream's first `ready` starts a pass of its own: the change comes after it, or that
    // pass (reporting late) could be the one that fetches it.
    await watch.waitFor(passWith('ready'), 0, 'the pass the stream started');

    // Pushed: the notice starts a `feeds` pass, and no poll runs while the stream is live. The
    // version is fetched by that pass, or by one the watch's own writes started just before
    // (`local`), never by a poll.
    let mark = watch.lines.length;
    await world.commit('Fassung 2');
    await watch.waitFor(passWith('feeds'), mark, 'a pushed pass');
    const pushed = await watch.waitFor(
      (l) => l.event === 'pass' && l.ok === true && (l.fetched ?? 0) > 0,
      mark,
      'the pass that fetched the new version',
    );
    t.match(pushed, { fetched: 1, applied: 1 });
    t.notOk(pushed.reasons?.includes('poll'), 'no poll: the server pushed it');
    t.equal(fileText(join(world.folder, docPath(2))), 'Fassung 2');
    t.notOk(existsSync(join(world.folder, docPath(1))), 'renamed by the signed version');

    // A local file: the folder watcher starts a pass that plans it (a reader keeps it here).
    mark = watch.lines.length;
    writeFileSync(join(world.folder, 'council', 'meine Notizen.txt'), 'nur für mich');
    const local = await watch.waitFor(passWith('local'), mark, 'a local pass');
    t.match(local, { queued: 0 });
    t.match((local as { skipped?: unknown }).skipped ?? [], []);

    // The service restarts: the stream goes down, the watch polls, then resumes and catches up.
    mark = watch.lines.length;
    await world.stopApp();
    await watch.waitFor((l) => l.event === 'polling', mark, 'the outage');
    await world.commit('Fassung 3 (während des Neustarts)');
    await sleep(400);
    t.equal(
      fileText(join(world.folder, docPath(2))),
      'Fassung 2',
      'nothing while the service is down',
    );
    await world.startApp();
    await until(
      () => fileText(join(world.folder, docPath(3))) === 'Fassung 3 (während des Neustarts)',
      20_000,
      'catch-up',
    );
    await watch.waitFor((l) => l.event === 'live', mark, 'the stream back');
    mark = watch.lines.length;
    await world.commit('Fassung 4');
    await until(() => fileText(join(world.folder, docPath(4))) === 'Fassung 4', 20_000, 'v4');
    await watch.waitFor(passWith('feeds'), mark, 'push after the restart');

    watch.stop();
    t.equal(await watch.exit, ExitCode.ok);
    t.match(watch.lines.at(-1), { event: 'stopped' });
    const passes = watch.lines.filter((l) => l.event === 'pass');
    t.ok(passes.length >= 5, `${passes.length} passes`);
  },
);

for (const mode of ['noStream', 'buffer'] as const) {
  t.test(`push unavailable (${mode}): the watch polls and still gets every change`, async (t) => {
    const world = await watchWorld(t);
    world.setMode(mode);
    const watch = startWatch(t, world.profile, world.folder);
    await watch.waitFor(passWith('start'), 0, 'the first pass');
    await world.commit('Fassung 2');
    await watch.waitFor(passWith('poll'), 0, 'a polling pass');
    await until(
      () => fileText(join(world.folder, docPath(2))) === 'Fassung 2',
      20_000,
      'the change',
    );
    t.notOk(
      watch.lines.some((l) => l.event === 'live'),
      'never live',
    );
    if (mode === 'noStream') {
      t.match(
        watch.lines.find((l) => l.event === 'polling'),
        { error: /no streams here/ },
      );
    }
    watch.stop();
    t.equal(await watch.exit, ExitCode.ok);
  });
}

t.test(
  'revoked by an admin: the watch wipes synced plaintext and keys, keeps own files',
  async (t) => {
    const world = await watchWorld(t);
    const watch = startWatch(t, world.profile, world.folder);
    await watch.waitFor(passWith('start'), 0, 'the first pass');
    const own = join(world.folder, 'council', 'meine Notizen.txt');
    writeFileSync(own, 'nur für mich');
    const mine = join(world.folder, 'eigener Ordner', 'Entwurf.txt');
    mkdirSync(join(world.folder, 'eigener Ordner'));
    writeFileSync(mine, 'Entwurf');
    await world.w.revokeDevice(world.bob, 'stolen');
    t.equal(await watch.exit, ExitCode.revoked);
    const revoked = watch.lines.find((l) => l.event === 'revoked');
    t.match(revoked, {
      deviceId: 'b1',
      deleted: ['council/Protokolle/Protokoll 1.txt'],
      failed: [],
    });
    t.notOk(existsSync(join(world.folder, docPath(1))), 'the synced document is gone');
    t.equal(fileText(own), 'nur für mich', 'a file the user made stays');
    t.equal(fileText(mine), 'Entwurf');
    t.notOk(existsSync(profileKeysPath(world.profile)), 'the device keys are gone');
    t.notOk(existsSync(join(world.profile, syncStateFile)), 'the sync state is gone');
    t.notOk(existsSync(join(world.folder, '.ratsfach')));
  },
);

t.test('a server that says "revoked" without a signed revocation gets nothing wiped', async (t) => {
  const world = await watchWorld(t);
  const watch = startWatch(t, world.profile, world.folder);
  await watch.waitFor(passWith('start'), 0, 'the first pass');
  world.setMode('liar');
  const refusal = await watch.waitFor((l) => l.event === 'refusalNotProven', 0, 'the refusal');
  t.match(refusal, { why: /no signed revocation of this device/ });
  t.equal(fileText(join(world.folder, docPath(1))), 'Fassung 1', 'nothing wiped');
  t.ok(existsSync(profileKeysPath(world.profile)), 'the keys stay');
  // The server comes back to its senses: the watch carries on.
  world.setMode('pass');
  await world.commit('Fassung 2');
  await until(() => fileText(join(world.folder, docPath(2))) === 'Fassung 2', 20_000, 'the change');
  watch.stop();
  t.equal(await watch.exit, ExitCode.ok);
});

t.test('the ratsfach command: spawned, it watches and ends with 0 on SIGINT', async (t) => {
  const world = await watchWorld(t);
  const root = resolve(import.meta.dirname, '../../..');
  const child = spawn(
    'bash',
    [
      join(root, 'scripts/run-ts.sh'),
      join(root, 'packages/client/src/cli/main.ts'),
      '--profile',
      world.profile,
      'sync',
      world.folder,
      '--watch',
    ],
    { env: { ...process.env, RATSFACH_PASSPHRASE: passphrase }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
  await until(() => /synced \(start\)/.test(stderr), 60_000, 'the spawned watch');
  t.match(stderr, /watching .* \(Ctrl-C to stop\)/);
  t.match(stderr, /\d\d:\d\d:\d\d synced \(start\): 1 fetched, 1 applied, 0 sent, 0 waiting/);
  await until(() => /live: the server pushes changes/.test(stderr), 20_000, 'push');
  // The pass the stream's `ready` starts comes first (see the test above).
  await until(() => /synced \([^)]*ready[^)]*\)/.test(stderr), 20_000, 'the ready pass');
  const before = stderr.length;
  await world.commit('Fassung 2');
  await until(() => /synced \([^)]*feeds[^)]*\)/.test(stderr.slice(before)), 20_000, 'the push');
  await until(
    () => /synced \((?![^)]*poll)[^)]*\): 1 fetched, 1 applied/.test(stderr.slice(before)),
    20_000,
    'the pass that fetched the new version',
  );
  t.equal(fileText(join(world.folder, docPath(2))), 'Fassung 2');
  child.kill('SIGINT');
  t.equal(await exited, 0, stderr);
  t.match(stderr, /stopped\n$/);
});
