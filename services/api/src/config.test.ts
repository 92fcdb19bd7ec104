import t from 'tap';
import { ValidationError } from '@ratsfach/domain';
import { loadConfig } from './config.js';

t.test(
  'defaults to loopback, port 8480, .data under the working directory, no proxies',
  async (t) => {
    const config = loadConfig({}, '/srv/ratsfach');
    t.same(config, {
      host: '127.0.0.1',
      port: 8480,
      dataDir: '/srv/ratsfach/.data',
      logLevel: 'info',
      logFormat: 'auto',
      trustedProxies: [],
      bodyLimit: 1048576,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 120000,
      idleTimeoutMs: 30000,
      keepAliveTimeoutMs: 5000,
      maxConnectionsPerAddress: 256,
      readyMaxLag: 1000,
      bootstrapToken: null,
    });
    t.ok(Object.isFrozen(config));
    t.ok(Object.isFrozen(config.trustedProxies));
  },
);

t.test('reads numbers and lists from their variables', async (t) => {
  const config = loadConfig(
    {
      RATSFACH_PORT: '9000',
      RATSFACH_DATA_DIR: '/var/lib/ratsfach',
      RATSFACH_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,::1',
      RATSFACH_MAX_CONNECTIONS_PER_ADDRESS: '3',
      RATSFACH_BOOTSTRAP_TOKEN: 'operator-secret',
      UNRELATED: 'x',
    },
    '/',
  );
  t.equal(config.port, 9000);
  t.equal(config.dataDir, '/var/lib/ratsfach');
  t.same(config.trustedProxies, ['10.0.0.1', '192.168.0.0/16', '::1']);
  t.equal(config.maxConnectionsPerAddress, 3);
  t.equal(config.bootstrapToken, 'operator-secret');
});

t.test('refuses a port that is not a number, naming the variable', async (t) => {
  for (const port of ['http', '-1', '70000', '', '80.5']) {
    t.throws(() => loadConfig({ RATSFACH_PORT: port }, '/'), {
      constructor: ValidationError,
      code: 'RATSFACH_CONFIG_INVALID',
      message: /^RATSFACH_PORT:/,
      details: { variable: 'RATSFACH_PORT' },
    });
  }
});

t.test('refuses an unknown log level, listing the allowed ones', async (t) => {
  t.throws(() => loadConfig({ RATSFACH_LOG_LEVEL: 'loud' }, '/'), {
    code: 'RATSFACH_CONFIG_INVALID',
    message: /"loud".*info/,
    details: { variable: 'RATSFACH_LOG_LEVEL' },
  });
});

t.test('refuses a trusted proxy that is not an address or CIDR range (never "true")', async (t) => {
  for (const proxies of ['true', '10.0.0.1/33', 'proxy.local', '10.0.0.0/8/1', '::1/129']) {
    t.throws(
      () => loadConfig({ RATSFACH_TRUSTED_PROXIES: proxies }, '/'),
      { code: 'RATSFACH_CONFIG_INVALID', details: { variable: 'RATSFACH_TRUSTED_PROXIES' } },
      proxies,
    );
  }
});

t.test('refuses timeouts below their floor', async (t) => {
  t.throws(() => loadConfig({ RATSFACH_IDLE_TIMEOUT_MS: '5' }, '/'), {
    code: 'RATSFACH_CONFIG_INVALID',
    details: { variable: 'RATSFACH_IDLE_TIMEOUT_MS' },
  });
});
