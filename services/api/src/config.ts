import { resolve } from 'node:path';
import { ValidationError } from '@ratsfach/domain';

/** The API's configuration, parsed once from the environment and frozen. */
export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** Everything the embedded default stores lives under this directory. */
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const configError = (variable: string, message: string): ValidationError =>
  new ValidationError('RATSFACH_CONFIG_INVALID', `${variable}: ${message}`, {
    hint: `fix or unset the environment variable ${variable}`,
    details: { variable },
  });

/** Parses the environment; throws a ValidationError naming the variable that is wrong. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ApiConfig {
  const host = env.RATSFACH_HOST ?? '127.0.0.1';
  const portText = env.RATSFACH_PORT ?? '8480';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw configError(
      'RATSFACH_PORT',
      `${JSON.stringify(portText)} is not a port number (0-65535)`,
    );
  }
  const logLevel = env.RATSFACH_LOG_LEVEL ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw configError('RATSFACH_LOG_LEVEL', `must be one of ${logLevels.join(', ')}`);
  }
  const dataDir = resolve(cwd, env.RATSFACH_DATA_DIR ?? '.data');
  return Object.freeze({ host, port, dataDir, logLevel: logLevel as ApiConfig['logLevel'] });
}
