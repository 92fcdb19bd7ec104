import { resolve } from 'node:path';
import { ValidationError } from '@ratsfach/domain';

/** The projector's configuration, parsed once from the environment and frozen. */
export interface ProjectorConfig {
  readonly dataDir: string;
  readonly eventStore: 'sqlite' | 'postgres';
  /** SQLite event log (embedded). */
  readonly eventStorePath: string;
  readonly readModel: 'sqlite' | 'postgres';
  readonly readModelPath: string;
  /** PostgreSQL for the log and/or the read models (scale-out). */
  readonly databaseUrl: string | null;
  readonly eventStoreSchema: string;
  readonly readModelSchema: string;
  readonly batchSize: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

type Raw = Readonly<Record<string, string | undefined>>;

interface Variable {
  readonly name: string;
  readonly description: string;
  readonly default: string | null;
  /** Allowed values, or a pattern the value must match. */
  readonly values?: readonly string[];
  readonly pattern?: RegExp;
}

/**
 * The one schema of the projector's configuration: every variable with its default and rule.
 * `loadProjectorConfig` validates against it, and the README's table is this list.
 */
export const projectorConfigSchema: readonly Variable[] = [
  { name: 'RATSFACH_DATA_DIR', description: 'directory of the embedded files', default: '.data' },
  {
    name: 'RATSFACH_EVENT_STORE',
    description: 'where the log is',
    default: 'sqlite',
    values: ['sqlite', 'postgres'],
  },
  {
    name: 'RATSFACH_EVENT_STORE_PATH',
    description: 'SQLite log file',
    default: '<data dir>/events.sqlite',
  },
  {
    name: 'RATSFACH_READ_MODEL',
    description: 'where the read models are',
    default: 'sqlite',
    values: ['sqlite', 'postgres'],
  },
  {
    name: 'RATSFACH_READ_MODEL_PATH',
    description: 'SQLite read-model file',
    default: '<data dir>/read-model.sqlite',
  },
  {
    name: 'RATSFACH_DATABASE_URL',
    description: 'PostgreSQL connection URL (scale-out)',
    default: null,
    pattern: /^postgres(ql)?:\/\//,
  },
  {
    name: 'RATSFACH_EVENT_STORE_SCHEMA',
    description: 'PostgreSQL schema of the log',
    default: 'ratsfach_events',
    pattern: /^[a-z0-9_]{1,63}$/,
  },
  {
    name: 'RATSFACH_READ_MODEL_SCHEMA',
    description: 'PostgreSQL schema of the read models',
    default: 'ratsfach_read_model',
    pattern: /^[a-z0-9_]{1,63}$/,
  },
  {
    name: 'RATSFACH_PROJECTOR_BATCH_SIZE',
    description: 'events per read-model transaction',
    default: '1000',
    pattern: /^[1-9]\d{0,5}$/,
  },
  {
    name: 'RATSFACH_LOG_LEVEL',
    description: 'pino log level',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  },
];

const configError = (variable: string, message: string): ValidationError =>
  new ValidationError('RATSFACH_CONFIG_INVALID', `${variable}: ${message}`, {
    hint: `fix or unset the environment variable ${variable}`,
    details: { variable },
  });

/** Parses the environment against the schema; throws RATSFACH_CONFIG_INVALID naming the variable. */
export function loadProjectorConfig(env: Raw, cwd: string): ProjectorConfig {
  const value = (name: string): string | null => {
    const variable = projectorConfigSchema.find((v) => v.name === name);
    if (variable === undefined) throw new Error(`no configuration variable ${name}`);
    const raw = env[name];
    if (raw === undefined || raw === '') return variable.default;
    if (variable.values !== undefined && !variable.values.includes(raw)) {
      throw configError(name, `must be one of ${variable.values.join(', ')}`);
    }
    if (variable.pattern !== undefined && !variable.pattern.test(raw)) {
      throw configError(name, `${JSON.stringify(raw)} does not match ${variable.pattern.source}`);
    }
    return raw;
  };
  const dataDir = resolve(cwd, value('RATSFACH_DATA_DIR') as string);
  const path = (name: string, file: string): string => {
    const raw = env[name];
    return raw === undefined || raw === '' ? resolve(dataDir, file) : resolve(cwd, raw);
  };
  const config: ProjectorConfig = {
    dataDir,
    eventStore: value('RATSFACH_EVENT_STORE') as ProjectorConfig['eventStore'],
    eventStorePath: path('RATSFACH_EVENT_STORE_PATH', 'events.sqlite'),
    readModel: value('RATSFACH_READ_MODEL') as ProjectorConfig['readModel'],
    readModelPath: path('RATSFACH_READ_MODEL_PATH', 'read-model.sqlite'),
    databaseUrl: value('RATSFACH_DATABASE_URL'),
    eventStoreSchema: value('RATSFACH_EVENT_STORE_SCHEMA') as string,
    readModelSchema: value('RATSFACH_READ_MODEL_SCHEMA') as string,
    batchSize: Number(value('RATSFACH_PROJECTOR_BATCH_SIZE')),
    logLevel: value('RATSFACH_LOG_LEVEL') as ProjectorConfig['logLevel'],
  };
  if (
    (config.eventStore === 'postgres' || config.readModel === 'postgres') &&
    config.databaseUrl === null
  ) {
    throw configError(
      'RATSFACH_DATABASE_URL',
      'is needed when the log or the read models are on PostgreSQL',
    );
  }
  return Object.freeze(config);
}
