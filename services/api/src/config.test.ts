import t from 'tap';
import { ValidationError } from '@ratsfach/domain';
import { loadConfig } from './config.js';

t.test(
  'defaults to loopback, port 8480, .data under the working directory, no proxies',
  async (t) => {
    const config = loadConfig({}, '/srv/ratsfach');
    t.same(config, {
      mode: 'embedded',
      database: null,
      s3: null,
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
      maxEventLoopDelayMs: 0,
      maxEventLoopUtilization: 0,
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

const scaleOut = {
  RATSFACH_MODE: 'scale-out',
  RATSFACH_DATABASE_URL: 'postgres://ratsfach@db.internal/ratsfach',
  RATSFACH_S3_ENDPOINT: 's3.internal',
  RATSFACH_S3_BUCKET: 'ratsfach-blobs',
  RATSFACH_S3_ACCESS_KEY: 'AK',
  RATSFACH_S3_SECRET_KEY: 'SK',
};

t.test('scale-out reads PostgreSQL and S3 settings, with their defaults', async (t) => {
  const config = loadConfig(scaleOut, '/');
  t.equal(config.mode, 'scale-out');
  t.same(config.database, {
    url: 'postgres://ratsfach@db.internal/ratsfach',
    eventStoreSchema: 'ratsfach_events',
    readModelSchema: 'ratsfach_read_model',
    serviceStateSchema: 'ratsfach_service',
  });
  t.same(config.s3, {
    endPoint: 's3.internal',
    useSSL: true,
    region: 'us-east-1',
    bucket: 'ratsfach-blobs',
    accessKey: 'AK',
    secretKey: 'SK',
  });
  const local = loadConfig(
    {
      ...scaleOut,
      RATSFACH_S3_PORT: '7480',
      RATSFACH_S3_USE_SSL: 'false',
      RATSFACH_READ_MODEL_SCHEMA: 'rm_two',
    },
    '/',
  );
  t.equal(local.s3?.port, 7480);
  t.equal(local.s3?.useSSL, false);
  t.equal(local.database?.readModelSchema, 'rm_two');
  t.equal(config.maxEventLoopDelayMs, 1000, 'scale-out sheds load by default');
  t.equal(config.maxEventLoopUtilization, 0.98);
  t.equal(loadConfig({ RATSFACH_DATABASE_URL: 'x' }, '/').database, null, 'embedded ignores them');
});

t.test('scale-out refuses missing or malformed settings, naming the variable', async (t) => {
  for (const variable of [
    'RATSFACH_DATABASE_URL',
    'RATSFACH_S3_ENDPOINT',
    'RATSFACH_S3_BUCKET',
    'RATSFACH_S3_ACCESS_KEY',
    'RATSFACH_S3_SECRET_KEY',
  ]) {
    t.throws(() => loadConfig({ ...scaleOut, [variable]: undefined }, '/'), {
      code: 'RATSFACH_CONFIG_INVALID',
      message: new RegExp(`^${variable}: is needed in scale-out mode`),
    });
  }
  t.throws(() => loadConfig({ ...scaleOut, RATSFACH_DATABASE_URL: 'mysql://secret@x/y' }, '/'), {
    code: 'RATSFACH_CONFIG_INVALID',
    message: /^RATSFACH_DATABASE_URL: is not a postgres/,
  });
  try {
    loadConfig({ ...scaleOut, RATSFACH_DATABASE_URL: 'mysql://secret@x/y' }, '/');
  } catch (error) {
    t.notMatch(
      (error as Error).message,
      /secret/,
      'the URL (it may hold a password) is not echoed',
    );
  }
  t.throws(() => loadConfig({ ...scaleOut, RATSFACH_EVENT_STORE_SCHEMA: 'x"; DROP' }, '/'), {
    message: /^RATSFACH_EVENT_STORE_SCHEMA:/,
  });
  t.throws(() => loadConfig({ ...scaleOut, RATSFACH_S3_USE_SSL: 'yes' }, '/'), {
    message: /^RATSFACH_S3_USE_SSL:.*true, false/,
  });
  t.throws(() => loadConfig({ RATSFACH_MODE: 'cluster' }, '/'), {
    message: /^RATSFACH_MODE:.*embedded, scale-out/,
  });
});

t.test('load-shedding limits: numbers in range, 0 turns them off', async (t) => {
  const config = loadConfig(
    { RATSFACH_MAX_EVENT_LOOP_DELAY_MS: '0', RATSFACH_MAX_EVENT_LOOP_UTILIZATION: '0.9' },
    '/',
  );
  t.equal(config.maxEventLoopDelayMs, 0);
  t.equal(config.maxEventLoopUtilization, 0.9);
  const embedded = loadConfig({ RATSFACH_MAX_EVENT_LOOP_UTILIZATION: '0.95' }, '/');
  t.equal(embedded.maxEventLoopUtilization, 0.95, 'embedded may turn it on');
  t.equal(embedded.maxEventLoopDelayMs, 0, 'the other limit keeps its embedded default');
  const off = loadConfig(
    {
      ...scaleOut,
      RATSFACH_MAX_EVENT_LOOP_DELAY_MS: '0',
      RATSFACH_MAX_EVENT_LOOP_UTILIZATION: '0',
    },
    '/',
  );
  t.equal(off.maxEventLoopDelayMs, 0, 'scale-out may turn it off');
  t.equal(off.maxEventLoopUtilization, 0);
  t.throws(() => loadConfig({ RATSFACH_MAX_EVENT_LOOP_UTILIZATION: '1.5' }, '/'), {
    message: /^RATSFACH_MAX_EVENT_LOOP_UTILIZATION:/,
  });
  t.throws(() => loadConfig({ RATSFACH_MAX_EVENT_LOOP_DELAY_MS: 'fast' }, '/'), {
    message: /^RATSFACH_MAX_EVENT_LOOP_DELAY_MS:/,
  });
});
