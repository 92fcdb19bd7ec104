import { PassThrough } from 'node:stream';
import t from 'tap';
import { askHiddenOn } from './askHidden.js';
import { CliErrorCode } from './cliErrorCode.js';

const terminal = () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  return { input, output, shown: () => shown };
};

t.test('the prompt shows the question, never what is typed', async (t) => {
  const { input, output, shown } = terminal();
  const answer = askHiddenOn(input, output)('device passphrase: ');
  input.write('geheim und lang\r');
  t.equal(await answer, 'geheim und lang');
  t.match(shown(), /device passphrase: /);
  t.notMatch(shown(), /geheim/);
});

t.test('Ctrl-C cancels with a typed error', async (t) => {
  const { input, output } = terminal();
  const answer = askHiddenOn(input, output)('root passphrase: ');
  input.write('\x03');
  await t.rejects(answer, { code: CliErrorCode.passphraseMissing, message: /cancelled/ });
});
