import { readFile } from 'node:fs/promises';
import { ValidationError } from '@ratsfach/kernel';
import { CliErrorCode } from './cliErrorCode.js';

/** Asks the person at the terminal; answers without echo. Absent when there is no terminal. */
export type AskHidden = (question: string) => Promise<string>;

/**
 * Where a passphrase comes from, in this order: a file (`--passphrase-file`), an environment
 * variable's value (read by the entry point, never by this package), a prompt.
 */
export interface PassphraseSources {
  readonly file?: string | undefined;
  readonly envValue?: string | undefined;
  /** The environment variable's name, for messages only. */
  readonly envName?: string;
  /** The option's name, for messages only. */
  readonly fileOption?: string;
  readonly ask?: AskHidden | undefined;
}

/** New passphrases shorter than this are refused (Argon2id slows guessing, it cannot stop it). */
export const minimumPassphraseLength = 12;

const missing = (what: string, sources: PassphraseSources): ValidationError =>
  new ValidationError(CliErrorCode.passphraseMissing, `no ${what} was given`, {
    hint: `Run it on a terminal to be asked, or pass ${sources.fileOption ?? '--passphrase-file'} <file>, or set ${sources.envName ?? 'RATSFACH_PASSPHRASE'}.`,
  });

async function fromFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ValidationError(
      CliErrorCode.passphraseFile,
      `the ${what} file ${path} cannot be read`,
      {
        hint: 'Check the path and its permissions.',
        details: { path },
        cause,
      },
    );
  }
  // One trailing line break is what `echo … > file` adds; everything else is the passphrase.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') {
    throw new ValidationError(CliErrorCode.passphraseFile, `the ${what} file ${path} is empty`, {
      hint: 'Write the passphrase into the file, on one line.',
      details: { path },
    });
  }
  return value;
}

/** The passphrase of an existing key (device key store or root key file). */
export async function readPassphrase(sources: PassphraseSources, what: string): Promise<string> {
  if (sources.file !== undefined) return fromFile(sources.file, what);
  if (sources.envValue !== undefined && sources.envValue !== '') return sources.envValue;
  if (sources.ask === undefined) throw missing(what, sources);
  const value = await sources.ask(`${what}: `);
  if (value === '') throw missing(what, sources);
  return value;
}

/**
 * A passphrase for a key that is being created: long enough, and typed twice when it comes from
 * the prompt (a typo would lock the key for good).
 */
export async function choosePassphrase(sources: PassphraseSources, what: string): Promise<string> {
  const value = await readPassphrase(sources, `new ${what}`);
  if (value.length < minimumPassphraseLength) {
    throw new ValidationError(
      CliErrorCode.passphraseWeak,
      `the new ${what} has ${value.length} characters, at least ${minimumPassphraseLength} are needed`,
      { hint: 'Choose a longer passphrase; several unrelated words are easy to remember.' },
    );
  }
  if (sources.file === undefined && !(sources.envValue !== undefined && sources.envValue !== '')) {
    const again = await (sources.ask as AskHidden)(`new ${what} again: `);
    if (again !== value) {
      throw new ValidationError(CliErrorCode.passphraseMismatch, `the two ${what}s differ`, {
        hint: 'Run the command again and type the same passphrase twice.',
      });
    }
  }
  return value;
}
