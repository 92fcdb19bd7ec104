import { isRatsfachError } from '@ratsfach/kernel';
import { StoreUnavailableError } from '../errors.js';

/** Node socket errors that mean the server cannot be reached at all. */
const socketCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * SQLSTATE classes and codes that say "the server is gone, shutting down, starting, or out of
 * resources": retrying later may succeed, and the failing statement wrote nothing.
 */
const unavailableSqlStates: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '53100', // disk_full
  '53200', // out_of_memory
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
]);

const codeOf = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** True when a driver error means the database cannot be reached or has gone away. */
export function isPostgresUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (socketCodes.has(code) || unavailableSqlStates.has(code)) return true;
    if (code.startsWith('08')) return true; // connection_exception class
  }
  const message = messageOf(error);
  return (
    /Connection terminated/i.test(message) ||
    /timeout exceeded when trying to connect/i.test(message) ||
    /Client has encountered a connection error/i.test(message) ||
    /Cannot use a pool after calling end/i.test(message) ||
    /the database system is (shutting down|starting up)/i.test(message)
  );
}

/**
 * Turns any failure of a PostgreSQL call into a ratsfach error: our own errors pass through,
 * connection failures become StoreUnavailableError, and anything else (a bug, an unexpected
 * SQLSTATE) also becomes StoreUnavailableError with the SQLSTATE in its details, because the
 * call did not complete and the caller can only retry or give up. Never a raw driver error.
 */
export function toPostgresStoreError(error: unknown, action: string): Error {
  if (isRatsfachError(error)) return error;
  const code = codeOf(error);
  const unreachable = isPostgresUnavailable(error);
  return new StoreUnavailableError(
    unreachable
      ? `PostgreSQL event store unavailable while ${action}: ${messageOf(error)}`
      : `PostgreSQL event store failed while ${action}: ${messageOf(error)}`,
    {
      cause: error,
      hint: unreachable
        ? 'check that PostgreSQL is running and reachable at the configured address (for tests: scripts/pg.sh start), then retry with the same command id'
        : 'retry with the same command id; if it keeps failing, check the PostgreSQL server log',
      details: { action, ...(code === undefined ? {} : { driverCode: code }) },
    },
  );
}
