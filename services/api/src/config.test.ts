import t from 'tap';
import { ValidationError } from '@ratsfach/domain';
import { loadConfig } from './config.js';

t.test('defaults to loopback, port 8480 and .data under the working directory', async (t) => {
  const config = loadConfig({}, '/srv/ratsfach');
  t.same(config, {
    host: '127.0.0.1',
    port: 8480,
    dataDir: '/srv/ratsfach/.data',
    logLevel: 'info',
  });
  t.ok(Object.isFrozen(config));
});

t.test('refuses a port that is not a number, naming the variable', async (t) => {
  for (const port of ['http', '-1', '70000', '']) {
    t.throws(() => loadConfig({ RATSFACH_PORT: port }, '/'), {
      constructor: ValidationError,
      code: 'RATSFACH_CONFIG_INVALID',
      message: /^RATSFACH_PORT:/,
    });
  }
});

t.test('refuses an unknown log level', async (t) => {
  t.throws(() => loadConfig({ RATSFACH_LOG_LEVEL: 'loud' }, '/'), {
    code: 'RATSFACH_CONFIG_INVALID',
    details: { variable: 'RATSFACH_LOG_LEVEL' },
  });
});
