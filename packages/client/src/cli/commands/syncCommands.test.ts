import { join } from 'node:path';
import { writeFile, mkdir } from 'node:fs/promises';
import t from 'tap';
import { cryptoReady } from '@ratsfach/crypto';
import { cli, tempDir } from '../../../test/support/cliHarness.js';
import { ExitCode } from '../output.js';
import { openSyncState, SyncSetting } from '../../sync/syncStateFile.js';

t.before(async () => {
  await cryptoReady();
});

t.test('status of a fresh profile says how to enrol; --json gives the same facts', async (t) => {
  const profile = join(await tempDir(t), 'p');
  const human = await cli(['--profile', profile, 'status']);
  t.equal(human.exitCode, ExitCode.ok);
  t.match(human.stdout, /device +not enrolled \(ratsfach enrol/);
  const json = await cli(['status', '--json'], { env: { RATSFACH_PROFILE: profile } });
  t.match(json.json(), { profile, device: null, documents: 0, queued: 0, held: [] });
});

t.test('status shows the queue, failing changes and held deletions', async (t) => {
  const profile = join(await tempDir(t), 'p');
  const state = openSyncState(profile);
  const queued = state.enqueue({ commandId: 'c1', kind: 'commit', payload: {} });
  state.markAttempt(queued.seq, 'offline');
  state.setSetting(
    SyncSetting.heldDeletions,
    JSON.stringify([{ direction: 'local', count: 6, total: 10, paths: [] }]),
  );
  state.setSetting(SyncSetting.folder, '/home/me/Rat');
  state.close();
  const shown = await cli(['--profile', profile, 'status']);
  t.equal(shown.exitCode, ExitCode.ok);
  t.match(shown.stdout, /folder +\/home\/me\/Rat/);
  t.match(shown.stdout, /1 changes to send, 1 failing/);
  t.match(shown.stdout, /held +6 of 10 files would be deleted here/);
});

t.test('status refuses a damaged profile with its code and hint', async (t) => {
  const profile = join(await tempDir(t), 'p');
  await mkdir(profile, { recursive: true });
  await writeFile(join(profile, 'profile.json'), '{not json');
  const shown = await cli(['--profile', profile, 'status']);
  t.equal(shown.exitCode, ExitCode.error);
  t.match(shown.stderr, /RATSFACH_CLI_PROFILE_DAMAGED/);
  t.match(shown.stderr, /hint: /);
});

t.test('heads prints a short code; the same heads give the same code', async (t) => {
  const profile = join(await tempDir(t), 'p');
  const empty = await cli(['--profile', profile, 'heads']);
  t.equal(empty.exitCode, ExitCode.ok);
  t.match(empty.stdout, /^[A-Z2-7]{5}-[A-Z2-7]{5}\n0 chains seen/);
  const state = openSyncState(profile);
  const seen = state.seenHeads();
  seen.accept('committee-t-c', [new Uint8Array(64).fill(1)]);
  state.saveSeenHeads(seen);
  state.close();
  const one = await cli(['--profile', profile, 'heads', '--json']);
  const value = one.json<{ code: string; heads: { stream: string; length: number }[] }>();
  t.not(value.code, empty.stdout.slice(0, 11), 'another history gives another code');
  t.match(value.heads, [{ stream: 'committee-t-c', length: 1 }]);
  const again = await cli(['--profile', profile, 'heads', '--json']);
  t.equal(again.json<{ code: string }>().code, value.code);
});
