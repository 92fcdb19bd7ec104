import t from 'tap';
import { WatchScheduler } from './watchScheduler.js';

/** A pass that waits until the test lets it finish. */
const gatedPasses = () => {
  const runs: (readonly string[])[] = [];
  const gates: (() => void)[] = [];
  const run = async (reasons: readonly string[]) => {
    runs.push(reasons);
    await new Promise<void>((resolve) => gates.push(resolve));
  };
  const release = async () => {
    for (let i = 0; i < 100 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { runs, run, release };
};

t.test('triggers during a pass give exactly one more pass, with all their reasons', async (t) => {
  const { runs, run, release } = gatedPasses();
  const scheduler = new WatchScheduler(run);
  scheduler.trigger('start');
  t.ok(scheduler.busy);
  scheduler.trigger('feeds');
  scheduler.trigger('local');
  scheduler.trigger('feeds');
  await release();
  t.same(runs, [['start'], ['feeds', 'local']], 'one more pass for three triggers');
  await release();
  await scheduler.idle();
  t.equal(runs.length, 2, 'no third pass');
  t.notOk(scheduler.busy);
  scheduler.trigger('timer');
  await release();
  await scheduler.idle();
  t.same(runs[2], ['timer'], 'an idle scheduler starts at once');
});

t.test('stop lets the running pass finish and starts no other', async (t) => {
  const { runs, run, release } = gatedPasses();
  const scheduler = new WatchScheduler(run);
  scheduler.trigger('start');
  scheduler.trigger('feeds');
  let stopped = false;
  const stopping = scheduler.stop().then(() => (stopped = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(stopped, 'waits for the running pass');
  await release();
  await stopping;
  t.same(runs, [['start']]);
  scheduler.trigger('late');
  t.notOk(scheduler.busy, 'a stopped scheduler ignores triggers');
});
