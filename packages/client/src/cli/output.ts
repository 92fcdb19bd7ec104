import { isRatsfachError } from '@ratsfach/kernel';
import { ApiProblemError } from '../http/apiClient.js';
import type { TextSink } from './cliContext.js';

/** Exit codes of the `ratsfach` command (the same for every command). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  /** Held for confirmation, or the person has to do something first. */
  needsUser: 3,
  /** This device was proven revoked (a verified signed record) and wiped its synced plaintext. */
  revoked: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * How a command reports: one JSON document on stdout with `--json`, readable lines otherwise.
 * A command builds its result once and hands both forms here, so the two cannot disagree.
 */
export class Output {
  readonly json: boolean;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;

  constructor(json: boolean, stdout: TextSink, stderr: TextSink) {
    this.json = json;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** The command's result: `value` as JSON, or `lines` for a person. */
  result(value: unknown, lines: readonly string[]): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else for (const line of lines) this.#stdout.write(`${line}\n`);
  }

  /**
   * One event of a long-running command: a JSON line on stdout with `--json` (a script reads
   * them as they come), else a status line for a person on stderr.
   */
  event(value: unknown, line: string): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(value)}\n`);
    else this.#stderr.write(`${line}\n`);
  }

  /** A progress or warning line for a person; never mixed into `--json` output. */
  note(line: string): void {
    this.#stderr.write(`${line}\n`);
  }

  /** Reports an error with its stable code and hint; returns the exit code to use. */
  error(error: unknown): ExitCode {
    const described = describeError(error);
    if (this.json) {
      this.#stdout.write(`${JSON.stringify({ error: described }, null, 2)}\n`);
    } else {
      this.#stderr.write(`error: ${described.message} (${described.code})\n`);
      if (described.hint) this.#stderr.write(`hint: ${described.hint}\n`);
    }
    return ExitCode.error;
  }
}

/** An error as the command shows it. */
export interface DescribedError {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly status?: number;
}

/** The code, message and hint of any error; an unexpected one gets a generic code. */
export function describeError(error: unknown): DescribedError {
  if (error instanceof ApiProblemError) {
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
  }
  if (isRatsfachError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    };
  }
  const cause = error as { code?: unknown; message?: unknown };
  if (cause.code === 'ECONNREFUSED' || cause.code === 'ENOTFOUND') {
    return {
      code: 'RATSFACH_CLI_SERVER_UNREACHABLE',
      message: `the server cannot be reached (${String(cause.code)})`,
      hint: 'Check the server address in the profile (--server) and that the service runs.',
    };
  }
  return {
    code: 'RATSFACH_CLI_UNEXPECTED',
    message: error instanceof Error ? error.message : String(error),
    hint: 'This is a bug or an unexpected condition; run again with --json and report the output.',
  };
}
