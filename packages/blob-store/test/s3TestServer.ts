import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'minio';
import type { S3BlobStoreOptions } from '../src/s3/index.js';

/**
 * The real S3 server (Ceph RADOS Gateway) the S3 tests and benchmark run against, as
 * scripts/s3-server.sh describes it in RATSFACH_TEST_S3_* variables.
 */

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/s3-server.sh', import.meta.url));

export interface S3TestServer {
  readonly endPoint: string;
  readonly port: number;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucketPrefix: string;
  /** Port of the spare gateway (`start-rgw spare`), which a test may stop without harming others. */
  readonly sparePort: number;
}

/** The server from the environment; fails with the command that provides it. */
export function s3TestServer(): S3TestServer {
  const env = process.env;
  const endPoint = env['RATSFACH_TEST_S3_ENDPOINT'];
  const port = Number(env['RATSFACH_TEST_S3_PORT']);
  const accessKey = env['RATSFACH_TEST_S3_ACCESS_KEY'];
  const secretKey = env['RATSFACH_TEST_S3_SECRET_KEY'];
  if (!endPoint || !Number.isInteger(port) || !accessKey || !secretKey) {
    throw new Error(
      'RATSFACH_TEST_S3_* is not set: start the S3 server first with\n' +
        '  eval "$(bash scripts/s3-server.sh start --env)"',
    );
  }
  const bucketPrefix = env['RATSFACH_TEST_S3_BUCKET_PREFIX'] ?? 'ratsfach-test-';
  const sparePort = Number(env['RATSFACH_TEST_S3_SPARE_PORT'] ?? port + 1);
  return { endPoint, port, accessKey, secretKey, bucketPrefix, sparePort };
}

/** A bucket name no other test run uses. */
export const randomBucket = (server: S3TestServer): string =>
  `${server.bucketPrefix}${randomBytes(6).toString('hex')}`;

/** Adapter options for `bucket` on the test server. */
export const s3Options = (server: S3TestServer, bucket: string): S3BlobStoreOptions => ({
  endPoint: server.endPoint,
  port: server.port,
  useSSL: false,
  accessKey: server.accessKey,
  secretKey: server.secretKey,
  bucket,
});

/** The minio client alone, for setting up and inspecting buckets behind the adapter's back. */
export const rawClient = (server: S3TestServer): Client =>
  new Client({
    endPoint: server.endPoint,
    port: server.port,
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    pathStyle: true,
    region: 'us-east-1',
  });

/**
 * Runs a subcommand of scripts/s3-server.sh against the test server, e.g.
 * `kill-rgw spare` or `start-rgw spare`.
 */
export async function s3ServerCommand(server: S3TestServer, ...args: string[]): Promise<void> {
  await run('bash', [script, ...args], {
    env: {
      ...process.env,
      RATSFACH_S3_PORT: String(server.port),
      RATSFACH_S3_SPARE_PORT: String(server.sparePort),
    },
  });
}

/** Removes a test bucket with everything in it, unfinished multipart uploads included. */
export async function removeBucket(server: S3TestServer, bucket: string): Promise<void> {
  const client = rawClient(server);
  if (!(await client.bucketExists(bucket))) return;
  const uploads: { key: string }[] = [];
  for await (const u of client.listIncompleteUploads(bucket, '', true)) {
    uploads.push(u as { key: string });
  }
  for (const u of uploads) await client.removeIncompleteUpload(bucket, u.key);
  const names: string[] = [];
  for await (const o of client.listObjectsV2(bucket, '', true)) {
    if (typeof o.name === 'string') names.push(o.name);
  }
  if (names.length > 0) await client.removeObjects(bucket, names);
  await client.removeBucket(bucket);
}
