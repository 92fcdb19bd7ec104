import t from 'tap';
import { buildTestApp, capturingLogger } from './helpers/buildTestApp.js';

const secrets = {
  token: 'tok_very-secret-bearer',
  proof: 'proof-signature-bytes-secret',
  enrolmentCode: 'ABCD-EFGH-SECRET-CODE',
};

t.test(
  'the log never holds an authorization header, token, login proof or enrolment code',
  async (t) => {
    const { logger, lines } = capturingLogger();
    const app = await buildTestApp(t, { logger });
    app.post('/echo', async (request) => {
      // A careless handler logging everything it got: the redaction must still hold.
      request.log.info({ headers: request.headers, body: request.body }, 'seen');
      request.log.info({ login: { proof: secrets.proof, token: secrets.token } }, 'nested');
      request.log.info({ enrolment: { code: secrets.enrolmentCode, codeId: 'c1' } }, 'enrolment');
      throw Object.assign(new Error('boom'), { token: secrets.token });
    });
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: {
        authorization: `Bearer ${secrets.token}`,
        cookie: `session=${secrets.token}`,
        'x-ratsfach-enrolment-code': secrets.enrolmentCode,
      },
      payload: { ...secrets, loginProof: secrets.proof, code: secrets.enrolmentCode },
    });
    t.equal(res.statusCode, 500);
    const log = lines.join('');
    t.ok(lines.length >= 4, 'the handler and the error were logged');
    for (const [name, value] of Object.entries(secrets)) {
      t.notOk(log.includes(value), `${name} is not in the log`);
    }
    t.match(log, /\[redacted\]/);
    t.match(log, /"codeId":"c1"/, 'ids that are not secret stay readable');
    t.match(log, /"code":"RATSFACH_API_INTERNAL"|unexpected error/, 'error codes stay readable');
  },
);

t.test('JSON lines when not on a terminal, human-readable lines when asked to', async (t) => {
  const { createLogger } = await import('../src/logger.js');
  const { Writable } = await import('node:stream');
  const capture = () => {
    const out: string[] = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        out.push(String(chunk));
        done();
      },
    });
    return { out, sink };
  };
  const json = capture();
  createLogger({ level: 'info', format: 'auto', isTty: false, destination: json.sink }).info(
    { token: secrets.token },
    'hello',
  );
  t.same(JSON.parse(json.out.join('')).msg, 'hello');
  const pretty = capture();
  createLogger({ level: 'info', format: 'pretty', isTty: false, destination: pretty.sink }).info(
    { token: secrets.token },
    'hello',
  );
  const line = pretty.out.join('');
  t.match(line, /INFO.*hello/);
  t.throws(() => JSON.parse(line), 'not JSON');
  t.notOk(line.includes(secrets.token), 'redacted in pretty lines too');
});
