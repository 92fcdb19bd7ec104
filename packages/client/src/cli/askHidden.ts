import { createInterface } from 'node:readline';
import { type Readable, Writable } from 'node:stream';
import { ValidationError } from '@ratsfach/kernel';
import { CliErrorCode } from './cliErrorCode.js';
import type { AskHidden } from './passphrase.js';

/**
 * A prompt that does not echo what is typed (passphrases), on a terminal. The question goes to
 * `output` (stderr), so `--json` output on stdout stays clean.
 */
export function askHiddenOn(input: Readable, output: Writable): AskHidden {
  return (question) =>
    new Promise((resolve, reject) => {
      let muted = false;
      // readline echoes through this stream; once the question is out, keystrokes are dropped.
      const echo = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (!muted) output.write(chunk);
          done();
        },
      });
      const rl = createInterface({ input, output: echo, terminal: true });
      rl.on('SIGINT', () => {
        rl.close();
        output.write('\n');
        reject(
          new ValidationError(CliErrorCode.passphraseMissing, 'the prompt was cancelled', {
            hint: 'Run the command again and type the passphrase.',
          }),
        );
      });
      rl.question(question, (answer) => {
        rl.close();
        output.write('\n');
        resolve(answer);
      });
      muted = true;
    });
}
