import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** Secret-bearing property names; redacted wherever they appear up to three levels deep. */
const secretKeys = [
  'authorization',
  'cookie',
  'token',
  'accessToken',
  'secret',
  'passphrase',
  'proof',
  'loginProof',
  'enrolmentCode',
  'code',
];

/**
 * Paths pino must never print (docs/security.md 22): credentials in headers, bearer tokens, login
 * proofs and enrolment codes wherever a log call or an error's details carry them. `code` is
 * redacted only inside a body-like object (`*.enrolment.code`), never the error `code` field.
 */
export const redactPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-ratsfach-enrolment-code"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-ratsfach-enrolment-code"]',
  ...secretKeys
    .filter((key) => key !== 'code')
    .flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
  'enrolment.code',
  '*.enrolment.code',
  'body.code',
  '*.body.code',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: string;
  /** `auto`: human-readable when the destination is a terminal, JSON lines otherwise. */
  readonly format?: LogFormat;
  /** Defaults to standard output. */
  readonly destination?: DestinationStream;
  /** Whether the destination is a terminal; defaults to `process.stdout.isTTY`. */
  readonly isTty?: boolean;
}

/** The service's root logger; requests get a child of it from Fastify. */
export function createLogger(options: LoggerOptions): Logger {
  const redact = { paths: [...redactPaths], censor: '[redacted]' };
  const pretty =
    options.format === 'pretty' ||
    ((options.format ?? 'auto') === 'auto' && (options.isTty ?? process.stdout.isTTY === true));
  if (pretty) {
    // Synchronous in this thread: a transport worker would lose the last lines of a crash.
    const stream = pinoPretty({
      sync: true,
      colorize: options.isTty ?? process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(options.destination ? { destination: options.destination } : {}),
    });
    return pino({ level: options.level, redact }, stream);
  }
  return options.destination
    ? pino({ level: options.level, redact }, options.destination)
    : pino({ level: options.level, redact });
}
