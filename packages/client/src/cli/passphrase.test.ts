import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { CliErrorCode } from './cliErrorCode.js';
import { choosePassphrase, minimumPassphraseLength, readPassphrase } from './passphrase.js';
import { tempDir } from '../../test/support/cliHarness.js';

const asking = (...answers: string[]) => {
  const asked: string[] = [];
  return {
    asked,
    ask: async (question: string) => {
      asked.push(question);
      return answers.shift() ?? '';
    },
  };
};

t.test('a file wins over the environment, which wins over the prompt', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'pass');
  await writeFile(file, 'from the file\n');
  const prompt = asking('from the prompt');
  t.equal(
    await readPassphrase({ file, envValue: 'from env', ask: prompt.ask }, 'device passphrase'),
    'from the file',
    'one trailing newline is dropped',
  );
  t.equal(
    await readPassphrase({ envValue: 'from env', ask: prompt.ask }, 'device passphrase'),
    'from env',
  );
  t.equal(
    await readPassphrase({ envValue: '', ask: prompt.ask }, 'device passphrase'),
    'from the prompt',
    'an empty variable counts as unset',
  );
  t.same(prompt.asked, ['device passphrase: ']);
  await writeFile(file, 'two\nlines\r\n');
  t.equal(await readPassphrase({ file }, 'x'), 'two\nlines');
});

t.test(
  'no source at all, an empty answer, an empty or unreadable file: typed errors',
  async (t) => {
    const dir = await tempDir(t);
    await t.rejects(
      readPassphrase(
        { envName: 'RATSFACH_ROOT_PASSPHRASE', fileOption: '--root-passphrase-file' },
        'root passphrase',
      ),
      {
        code: CliErrorCode.passphraseMissing,
        hint: /--root-passphrase-file <file>.*RATSFACH_ROOT_PASSPHRASE/,
      },
    );
    await t.rejects(readPassphrase({}, 'device passphrase'), {
      code: CliErrorCode.passphraseMissing,
      hint: /--passphrase-file <file>.*RATSFACH_PASSPHRASE/,
    });
    await t.rejects(readPassphrase({ ask: asking('').ask }, 'p'), {
      code: CliErrorCode.passphraseMissing,
    });
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    await t.rejects(readPassphrase({ file: empty }, 'p'), {
      code: CliErrorCode.passphraseFile,
      message: /empty/,
    });
    await t.rejects(readPassphrase({ file: join(dir, 'none') }, 'p'), {
      code: CliErrorCode.passphraseFile,
      message: /cannot be read/,
    });
    const locked = join(dir, 'locked');
    await writeFile(locked, 'secret');
    await chmod(locked, 0o000);
    if (process.getuid?.() !== 0) {
      await t.rejects(readPassphrase({ file: locked }, 'p'), { code: CliErrorCode.passphraseFile });
    }
  },
);

t.test('a new passphrase must be long enough and typed the same twice at a prompt', async (t) => {
  const long = 'x'.repeat(minimumPassphraseLength);
  const twice = asking(long, long);
  t.equal(await choosePassphrase({ ask: twice.ask }, 'root passphrase'), long);
  t.same(twice.asked, ['new root passphrase: ', 'new root passphrase again: ']);
  await t.rejects(choosePassphrase({ ask: asking(long, `${long}y`).ask }, 'root passphrase'), {
    code: CliErrorCode.passphraseMismatch,
  });
  await t.rejects(choosePassphrase({ envValue: 'short' }, 'root passphrase'), {
    code: CliErrorCode.passphraseWeak,
    message: /5 characters/,
  });
  t.equal(await choosePassphrase({ envValue: long }, 'p'), long, 'no second entry from a variable');
});
