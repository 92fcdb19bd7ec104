import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { envSchema } from 'env-schema';
import Type, { type Static } from 'typebox';
import { ValidationError } from '@ratsfach/domain';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logFormats = ['auto', 'json', 'pretty'] as const;
const modes = ['embedded', 'scale-out'] as const;
const schemaName = '^[a-z_][a-z0-9_]{0,62}$';

/**
 * Every environment variable the API reads, with its default and meaning: validation, defaults
 * and the README's configuration table (`scripts/configTable.ts`) all come from this one schema.
 * Enumerations are `Type.String({ enum })`, not unions of literals, so a wrong value gets one clear
 * error instead of one per literal.
 */
export const ConfigSchema = Type.Object({
  RATSFACH_DATA_DIR: Type.String({
    minLength: 1,
    default: '.data',
    description: 'everything the embedded mode stores; relative to the working directory',
  }),
  RATSFACH_HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'address to listen on',
  }),
  RATSFACH_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8480,
    description: 'port to listen on (0: any free port)',
  }),
  RATSFACH_LOG_LEVEL: Type.String({ enum: logLevels, default: 'info', description: 'pino level' }),
  RATSFACH_LOG_FORMAT: Type.String({
    enum: logFormats,
    default: 'auto',
    description: '`auto`: human-readable lines on a terminal, JSON lines otherwise',
  }),
  RATSFACH_TRUSTED_PROXIES: Type.String({
    default: '',
    description:
      'comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed; empty: none',
  }),
  RATSFACH_BODY_LIMIT: Type.Integer({
    minimum: 1024,
    default: 1048576,
    description: 'largest JSON request body, in bytes',
  }),
  RATSFACH_HEADERS_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 10000,
    description: 'time a connection has to send the headers of a request',
  }),
  RATSFACH_REQUEST_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 120000,
    description: 'time a request (headers and body) may take; event streams excepted',
  }),
  RATSFACH_IDLE_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 30000,
    description: 'a connection that sends nothing for this long is closed; event streams excepted',
  }),
  RATSFACH_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: 'an idle keep-alive connection between requests is closed after this long',
  }),
  RATSFACH_MAX_CONNECTIONS_PER_ADDRESS: Type.Integer({
    minimum: 1,
    default: 256,
    description: 'open connections one client address may hold; further ones are closed at once',
  }),
  RATSFACH_READY_MAX_LAG: Type.Integer({
    minimum: 0,
    default: 1000,
    description:
      '`/readyz` answers 503 while the read models trail the log by more events than this',
  }),
  RATSFACH_BOOTSTRAP_TOKEN: Type.String({
    default: '',
    description:
      'secret an operator hands to whoever creates a tenant (`ratsfach admin init`); empty: tenants may be created from this host (loopback) only',
  }),
  RATSFACH_MAX_EVENT_LOOP_DELAY_MS: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'requests get 503 `RATSFACH_API_OVERLOADED` while the mean event-loop delay over the last second exceeds this (0: never)',
    }),
  ),
  RATSFACH_MAX_EVENT_LOOP_UTILIZATION: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'requests get 503 `RATSFACH_API_OVERLOADED` while the event loop was busier than this share of the last second (0: never)',
    }),
  ),
  RATSFACH_MODE: Type.String({
    enum: modes,
    default: 'embedded',
    description:
      '`embedded`: one process, everything under the data directory; `scale-out`: log, read models and service state in PostgreSQL, blobs on S3, the projector a process of its own, push across processes by LISTEN/NOTIFY',
  }),
  RATSFACH_DATABASE_URL: Type.String({
    default: '',
    description: 'scale-out: PostgreSQL connection URL (`postgres://…`)',
  }),
  RATSFACH_EVENT_STORE_SCHEMA: Type.String({
    pattern: schemaName,
    default: 'ratsfach_events',
    description: 'scale-out: PostgreSQL schema of the log (the projector must name the same)',
  }),
  RATSFACH_READ_MODEL_SCHEMA: Type.String({
    pattern: schemaName,
    default: 'ratsfach_read_model',
    description:
      'scale-out: PostgreSQL schema of the read models (the projector must name the same)',
  }),
  RATSFACH_SERVICE_STATE_SCHEMA: Type.String({
    pattern: schemaName,
    default: 'ratsfach_service',
    description:
      'scale-out: PostgreSQL schema of enrolment codes, directory, tokens and login challenges',
  }),
  RATSFACH_S3_ENDPOINT: Type.String({
    default: '',
    description: 'scale-out: S3 host name or address, without scheme or port',
  }),
  RATSFACH_S3_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 0,
    description: 'scale-out: S3 port (0: 443 with TLS, 80 without)',
  }),
  RATSFACH_S3_USE_SSL: Type.String({
    enum: ['true', 'false'],
    default: 'true',
    description: 'scale-out: talk to S3 over HTTPS',
  }),
  RATSFACH_S3_REGION: Type.String({
    minLength: 1,
    default: 'us-east-1',
    description: 'scale-out: S3 region used for signing',
  }),
  RATSFACH_S3_BUCKET: Type.String({
    default: '',
    description: "scale-out: the bucket holding every tenant's blobs (created when missing)",
  }),
  RATSFACH_S3_ACCESS_KEY: Type.String({ default: '', description: 'scale-out: S3 access key' }),
  RATSFACH_S3_SECRET_KEY: Type.String({ default: '', description: 'scale-out: S3 secret key' }),
});
type ConfigEnv = Static<typeof ConfigSchema>;

/**
 * Defaults that depend on `RATSFACH_MODE` (the README's table shows them per mode). Load
 * shedding is on in scale-out only: there a load balancer sends a refused request to another
 * process, so refusing keeps the saturated one from growing a backlog. Embedded, the process is
 * the whole service: a refused request has nowhere else to go and comes back anyway, and the
 * measure counts time the process waits for a CPU that neighbours hold, so a busy shared
 * machine would turn slowness into errors.
 */
export const modeDefaults: Readonly<
  Partial<Record<keyof ConfigEnv, Readonly<Record<(typeof modes)[number], number>>>>
> = {
  RATSFACH_MAX_EVENT_LOOP_DELAY_MS: { embedded: 0, 'scale-out': 1000 },
  RATSFACH_MAX_EVENT_LOOP_UTILIZATION: { embedded: 0, 'scale-out': 0.98 },
};

/** Where scale-out keeps its state: PostgreSQL for the log, read models and service state. */
export interface DatabaseConfig {
  readonly url: string;
  readonly eventStoreSchema: string;
  readonly readModelSchema: string;
  readonly serviceStateSchema: string;
}

/** Where scale-out keeps its blobs. */
export interface S3Config {
  readonly endPoint: string;
  /** Absent: the scheme's default. */
  readonly port?: number;
  readonly useSSL: boolean;
  readonly region: string;
  readonly bucket: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/** The API's configuration, parsed once from the environment and frozen. */
export interface ApiConfig {
  readonly mode: (typeof modes)[number];
  /** Scale-out only (null embedded). */
  readonly database: DatabaseConfig | null;
  /** Scale-out only (null embedded). */
  readonly s3: S3Config | null;
  readonly host: string;
  readonly port: number;
  /** Absolute; everything the embedded stores keep lives under it. */
  readonly dataDir: string;
  readonly logLevel: (typeof logLevels)[number];
  readonly logFormat: (typeof logFormats)[number];
  /** Addresses and CIDR ranges; never `true` (a spoofable leftmost X-Forwarded-For). */
  readonly trustedProxies: readonly string[];
  readonly bodyLimit: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnectionsPerAddress: number;
  /** `/readyz` is 503 while more events than this wait for the projector. */
  readonly readyMaxLag: number;
  /** Null: bootstraps only from loopback. */
  readonly bootstrapToken: string | null;
  /** Load shedding: 503 above this mean event-loop delay (ms; 0: off; see `modeDefaults`). */
  readonly maxEventLoopDelayMs: number;
  /** Load shedding: 503 above this event-loop utilisation (0 to 1; 0: off). */
  readonly maxEventLoopUtilization: number;
}

const configError = (variable: string, message: string): ValidationError =>
  new ValidationError('RATSFACH_CONFIG_INVALID', `${variable}: ${message}`, {
    hint: `fix or unset the environment variable ${variable}`,
    details: { variable },
  });

interface AjvIssue {
  readonly instancePath: string;
  readonly message?: string;
  readonly params?: { readonly allowedValues?: readonly unknown[] };
}

/** Parses the environment; throws a ValidationError naming the first variable that is wrong. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ApiConfig {
  const known = Object.fromEntries(
    Object.keys(ConfigSchema.properties).flatMap((name) =>
      env[name] === undefined ? [] : [[name, env[name]]],
    ),
  );
  let parsed: ConfigEnv;
  try {
    // env-schema sets additionalProperties on the schema it is given: hand it a copy.
    parsed = envSchema<ConfigEnv>({ schema: { ...ConfigSchema }, data: known, env: false });
  } catch (error) {
    const issue = (error as { errors?: readonly AjvIssue[] }).errors?.[0];
    if (!issue) throw error;
    const variable = issue.instancePath.replace(/^\//, '');
    const allowed = issue.params?.allowedValues;
    throw configError(
      variable,
      `${JSON.stringify(env[variable])} ${issue.message ?? 'is invalid'}${
        allowed ? `: ${allowed.join(', ')}` : ''
      }`,
    );
  }
  const trustedProxies = parsed.RATSFACH_TRUSTED_PROXIES.split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of trustedProxies) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw configError(
        'RATSFACH_TRUSTED_PROXIES',
        `${JSON.stringify(entry)} is not an IP address or CIDR range`,
      );
    }
  }
  const mode = parsed.RATSFACH_MODE as ApiConfig['mode'];
  let database: DatabaseConfig | null = null;
  let s3: S3Config | null = null;
  if (mode === 'scale-out') {
    const required = (variable: keyof ConfigEnv, what: string): string => {
      const value = String(parsed[variable]);
      if (value === '') throw configError(variable, `is needed in scale-out mode (${what})`);
      return value;
    };
    const url = required('RATSFACH_DATABASE_URL', 'the PostgreSQL URL');
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw configError('RATSFACH_DATABASE_URL', 'is not a postgres:// or postgresql:// URL');
    }
    database = Object.freeze({
      url,
      eventStoreSchema: parsed.RATSFACH_EVENT_STORE_SCHEMA,
      readModelSchema: parsed.RATSFACH_READ_MODEL_SCHEMA,
      serviceStateSchema: parsed.RATSFACH_SERVICE_STATE_SCHEMA,
    });
    s3 = Object.freeze({
      endPoint: required('RATSFACH_S3_ENDPOINT', 'the S3 host'),
      ...(parsed.RATSFACH_S3_PORT === 0 ? {} : { port: parsed.RATSFACH_S3_PORT }),
      useSSL: parsed.RATSFACH_S3_USE_SSL === 'true',
      region: parsed.RATSFACH_S3_REGION,
      bucket: required('RATSFACH_S3_BUCKET', 'the bucket'),
      accessKey: required('RATSFACH_S3_ACCESS_KEY', 'the access key'),
      secretKey: required('RATSFACH_S3_SECRET_KEY', 'the secret key'),
    });
  }
  return Object.freeze({
    mode,
    database,
    s3,
    host: parsed.RATSFACH_HOST,
    port: parsed.RATSFACH_PORT,
    dataDir: resolve(cwd, parsed.RATSFACH_DATA_DIR),
    logLevel: parsed.RATSFACH_LOG_LEVEL as ApiConfig['logLevel'],
    logFormat: parsed.RATSFACH_LOG_FORMAT as ApiConfig['logFormat'],
    trustedProxies: Object.freeze(trustedProxies),
    bodyLimit: parsed.RATSFACH_BODY_LIMIT,
    headersTimeoutMs: parsed.RATSFACH_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: parsed.RATSFACH_REQUEST_TIMEOUT_MS,
    idleTimeoutMs: parsed.RATSFACH_IDLE_TIMEOUT_MS,
    keepAliveTimeoutMs: parsed.RATSFACH_KEEP_ALIVE_TIMEOUT_MS,
    maxConnectionsPerAddress: parsed.RATSFACH_MAX_CONNECTIONS_PER_ADDRESS,
    readyMaxLag: parsed.RATSFACH_READY_MAX_LAG,
    bootstrapToken: parsed.RATSFACH_BOOTSTRAP_TOKEN === '' ? null : parsed.RATSFACH_BOOTSTRAP_TOKEN,
    maxEventLoopDelayMs:
      parsed.RATSFACH_MAX_EVENT_LOOP_DELAY_MS ??
      modeDefaults.RATSFACH_MAX_EVENT_LOOP_DELAY_MS![mode],
    maxEventLoopUtilization:
      parsed.RATSFACH_MAX_EVENT_LOOP_UTILIZATION ??
      modeDefaults.RATSFACH_MAX_EVENT_LOOP_UTILIZATION![mode],
  });
}
