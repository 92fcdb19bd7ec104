import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import { ConcurrencyError, StoreUnavailableError } from '../errors.js';
import { isPostgresUnavailable, toPostgresStoreError } from './postgresErrors.js';

const driverError = (code: string, message = 'driver says no'): Error =>
  Object.assign(new Error(message), { code });

t.test('recognises connection failures by socket code, SQLSTATE and message', async (t) => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND']) {
    t.ok(isPostgresUnavailable(driverError(code)), code);
  }
  for (const code of ['57P01', '57P03', '53300', '3D000', '08006', '08001']) {
    t.ok(isPostgresUnavailable(driverError(code)), `SQLSTATE ${code}`);
  }
  t.ok(isPostgresUnavailable(new Error('Connection terminated unexpectedly')));
  t.ok(isPostgresUnavailable(new Error('timeout exceeded when trying to connect')));
  t.notOk(isPostgresUnavailable(driverError('23505')), 'a unique violation is not an outage');
  t.notOk(isPostgresUnavailable(driverError('42P01')), 'a missing table is not an outage');
  t.notOk(isPostgresUnavailable('a string'));
});

t.test('maps an outage to StoreUnavailableError with a hint to start the database', async (t) => {
  const cause = driverError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
  const error = toPostgresStoreError(cause, 'appending');
  t.type(error, StoreUnavailableError);
  t.equal((error as StoreUnavailableError).code, 'RATSFACH_EVENT_STORE_UNAVAILABLE');
  t.match((error as StoreUnavailableError).hint, /PostgreSQL is running/);
  t.match((error as StoreUnavailableError).hint, /scripts\/pg\.sh start/);
  t.match(error.message, /unavailable while appending/);
  t.same((error as StoreUnavailableError).details, {
    action: 'appending',
    driverCode: 'ECONNREFUSED',
  });
  t.equal(error.cause, cause, 'keeps the driver error as cause');
});

t.test('never lets a raw driver error through', async (t) => {
  const error = toPostgresStoreError(driverError('XX000', 'internal error'), 'reading a stream');
  t.type(error, StoreUnavailableError, 'an unexpected SQLSTATE still becomes a typed error');
  t.match(error.message, /failed while reading a stream/);
  t.match((error as StoreUnavailableError).details, { driverCode: 'XX000' });
});

t.test('passes ratsfach errors through unchanged', async (t) => {
  const concurrency = new ConcurrencyError('document-t-d', 'no_stream', 0n);
  t.equal(toPostgresStoreError(concurrency, 'appending'), concurrency);
  const validation = new ValidationError('RATSFACH_X', 'bad');
  t.equal(toPostgresStoreError(validation, 'appending'), validation);
});
