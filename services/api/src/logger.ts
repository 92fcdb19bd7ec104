import { pino, type Logger, type DestinationStream } from 'pino';

/** Paths pino must never print: credentials in headers, and any secret a body may carry. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-ratsfach-enrolment-code"]',
  'headers.authorization',
  '*.token',
  '*.secret',
  '*.passphrase',
  '*.enrolmentCode',
];

/** The service's root logger; requests get a child of it from Fastify. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}
