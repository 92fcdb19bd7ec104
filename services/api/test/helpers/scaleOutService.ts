// Scale-out as an operator runs it, for tests and benchmarks: a projector process and two API
// processes (`src/main.ts` with RATSFACH_MODE=scale-out) on throw-away PostgreSQL schemas and a
// throw-away bucket of the test S3 server, plus this process's own connections to the same
// stores for a world's setup.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { S3BlobStore } from '@ratsfach/blob-store/s3';
import { openPostgresEventStore } from '@ratsfach/event-store/postgres';
import { openPostgresReadModelStore } from '@ratsfach/read-model/postgres';

const env = process.env;
const root = resolve(import.meta.dirname, '../../../..');

/** The test services (source /work/test-services.env, or scripts/pg.sh and s3-server.sh). */
export function testServices() {
  const pgUrl = env['RATSFACH_TEST_PG_URL'] ?? '';
  const s3 = {
    endPoint: env['RATSFACH_TEST_S3_ENDPOINT'] ?? '',
    port: Number(env['RATSFACH_TEST_S3_PORT']),
    accessKey: env['RATSFACH_TEST_S3_ACCESS_KEY'] ?? '',
    secretKey: env['RATSFACH_TEST_S3_SECRET_KEY'] ?? '',
  };
  if (!pgUrl || !s3.endPoint || !Number.isInteger(s3.port) || !s3.accessKey || !s3.secretKey) {
    throw new Error(
      'RATSFACH_TEST_PG_URL / RATSFACH_TEST_S3_* are not set: source /work/test-services.env',
    );
  }
  return { pgUrl, s3 };
}

/** Runs one statement on a connection of its own. */
export async function adminQuery(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: testServices().pgUrl });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts `services/<service>/src/main.ts` as its own process; resolves once `ready` matches. */
export async function startProcess(
  t: Teardown,
  service: string,
  vars: Record<string, string>,
  ready: RegExp | null,
) {
  const child: ChildProcess = spawn(
    'bash',
    [join(root, 'scripts/run-ts.sh'), join(root, `services/${service}/src/main.ts`)],
    {
      env: { ...process.env, RATSFACH_LOG_LEVEL: 'info', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  // Generous: two cores shared by many, and each process transpiles its sources at start.
  const deadline = Date.now() + 240_000;
  for (;;) {
    const match = ready === null ? [] : ready.exec(output);
    if (match) return { child, match, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${service} did not start: ${output}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * A projector process and two API processes in scale-out mode, on fresh schemas and a fresh
 * bucket (dropped when the test ends), and this process's own stores on them.
 */
export async function startScaleOut(t: Teardown) {
  const { pgUrl, s3 } = testServices();
  const id = randomBytes(5).toString('hex');
  const schemas = {
    RATSFACH_EVENT_STORE_SCHEMA: `so_ev_${id}`,
    RATSFACH_READ_MODEL_SCHEMA: `so_rm_${id}`,
    RATSFACH_SERVICE_STATE_SCHEMA: `so_st_${id}`,
  };
  t.teardown(async () => {
    for (const schema of Object.values(schemas)) {
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
  const bucket = `${env['RATSFACH_TEST_S3_BUCKET_PREFIX'] ?? 'ratsfach-test-'}${id}`;
  const eventStore = await openPostgresEventStore({
    connection: { connectionString: pgUrl, max: 4 },
    schema: schemas.RATSFACH_EVENT_STORE_SCHEMA,
  });
  const readModel = await openPostgresReadModelStore({
    connection: { connectionString: pgUrl, max: 2 },
    schema: schemas.RATSFACH_READ_MODEL_SCHEMA,
  });
  const blobStore = await S3BlobStore.open({ ...s3, useSSL: false, bucket });
  t.teardown(async () => {
    await blobStore.close();
    await readModel.close();
    await eventStore.close();
  });
  const projector = await startProcess(
    t,
    'projector',
    {
      ...schemas,
      RATSFACH_EVENT_STORE: 'postgres',
      RATSFACH_READ_MODEL: 'postgres',
      RATSFACH_DATABASE_URL: pgUrl,
    },
    null,
  );
  const apiVars = {
    ...schemas,
    RATSFACH_MODE: 'scale-out',
    RATSFACH_PORT: '0',
    RATSFACH_DATABASE_URL: pgUrl,
    RATSFACH_S3_ENDPOINT: s3.endPoint,
    RATSFACH_S3_PORT: String(s3.port),
    RATSFACH_S3_USE_SSL: 'false',
    RATSFACH_S3_BUCKET: bucket,
    RATSFACH_S3_ACCESS_KEY: s3.accessKey,
    RATSFACH_S3_SECRET_KEY: s3.secretKey,
    // Nothing of this run may land in a data directory: point it where nothing can be written.
    RATSFACH_DATA_DIR: '/nonexistent/ratsfach-scale-out',
  };
  const ready = /listening on (http:\/\/\S+) \(scale-out\)/;
  const [first, second] = await Promise.all([
    startProcess(t, 'api', apiVars, ready),
    startProcess(t, 'api', apiVars, ready),
  ]);
  return {
    s3,
    schemas,
    bucket,
    eventStore,
    readModel,
    blobStore,
    projector,
    first,
    second,
    api1: first.match[1]!,
    api2: second.match[1]!,
  };
}
