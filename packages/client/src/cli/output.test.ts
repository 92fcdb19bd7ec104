import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import { ApiProblemError } from '../http/apiClient.js';
import { describeError, ExitCode, Output } from './output.js';

t.test('errors keep their stable code and hint', async (t) => {
  t.same(describeError(new ValidationError('RATSFACH_X', 'bad', { hint: 'do y' })), {
    code: 'RATSFACH_X',
    message: 'bad',
    hint: 'do y',
  });
  t.same(describeError(new ValidationError('RATSFACH_X', 'bad')), {
    code: 'RATSFACH_X',
    message: 'bad',
  });
  const problem = new ApiProblemError({
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
    detail: 'not an admin',
    instance: '/v1',
    code: 'RATSFACH_API_FORBIDDEN',
    hint: 'log in as admin',
  });
  t.same(describeError(problem), {
    code: 'RATSFACH_API_FORBIDDEN',
    message: 'not an admin',
    status: 403,
    hint: 'log in as admin',
  });
  const noHint = new ApiProblemError({ ...problem.problem, hint: undefined });
  t.notOk('hint' in describeError(noHint));
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  t.equal(describeError(refused).code, 'RATSFACH_CLI_SERVER_UNREACHABLE');
  t.equal(describeError(new Error('boom')).code, 'RATSFACH_CLI_UNEXPECTED');
  t.equal(describeError('text').message, 'text');
});

t.test('output goes to stdout as JSON or lines; notes and errors to stderr', async (t) => {
  let out = '';
  let err = '';
  const sink = (text: string) => (out += text);
  const errSink = (text: string) => (err += text);
  const human = new Output(false, { write: sink }, { write: errSink });
  human.result({ a: 1 }, ['line one', 'line two']);
  human.note('working');
  t.equal(human.error(new ValidationError('RATSFACH_X', 'bad', { hint: 'do y' })), ExitCode.error);
  t.equal(out, 'line one\nline two\n');
  t.equal(err, 'working\nerror: bad (RATSFACH_X)\nhint: do y\n');
  out = '';
  err = '';
  const json = new Output(true, { write: sink }, { write: errSink });
  json.result({ a: 1 }, ['ignored']);
  t.same(JSON.parse(out), { a: 1 });
  out = '';
  json.error(new ValidationError('RATSFACH_X', 'bad'));
  t.same(JSON.parse(out), { error: { code: 'RATSFACH_X', message: 'bad' } });
  t.equal(err, '');
});
