import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { envSchema } from 'env-schema';
import Type, { type Static } from 'typebox';
import { ValidationError } from '@ratsfach/domain';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logFormats = ['auto', 'json', 'pretty'] as const;

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
});
type ConfigEnv = Static<typeof ConfigSchema>;

/** The API's configuration, parsed once from the environment and frozen. */
export interface ApiConfig {
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
  return Object.freeze({
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
  });
}
