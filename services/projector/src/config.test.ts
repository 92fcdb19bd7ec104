import t from 'tap';
import { loadProjectorConfig } from './config.js';

t.test('defaults put both SQLite files under the data directory', async (t) => {
  const config = loadProjectorConfig({}, '/srv');
  t.match(config, {
    dataDir: '/srv/.data',
    eventStore: 'sqlite',
    eventStorePath: '/srv/.data/events.sqlite',
    readModelPath: '/srv/.data/read-model.sqlite',
    batchSize: 1000,
    databaseUrl: null,
  });
  t.ok(Object.isFrozen(config));
});

t.test('refuses bad values naming the variable', async (t) => {
  const bad: Record<string, string>[] = [
    { RATSFACH_EVENT_STORE: 'mysql' },
    { RATSFACH_PROJECTOR_BATCH_SIZE: '0' },
    { RATSFACH_READ_MODEL_SCHEMA: 'Bad-Name' },
    { RATSFACH_READ_MODEL: 'postgres' },
    { RATSFACH_DATABASE_URL: 'mysql://x' },
  ];
  for (const env of bad) {
    const variable =
      Object.keys(env)[0] === 'RATSFACH_READ_MODEL' ? 'RATSFACH_DATABASE_URL' : Object.keys(env)[0];
    t.throws(
      () => loadProjectorConfig(env, '/srv'),
      { code: 'RATSFACH_CONFIG_INVALID', details: { variable } },
      JSON.stringify(env),
    );
  }
});
