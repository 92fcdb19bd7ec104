import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from '../../src/cli/cliContext.js';
import { runCli } from '../../src/cli/program.js';

/** A `ratsfach` run in a test: the exit code and what went to stdout and stderr. */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for runs with --json). */
  json<T = Record<string, unknown>>(): T;
}

/** A fresh temporary directory removed when the test ends. */
export async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the command in-process with a context of the test's making. */
export async function cli(
  argv: readonly string[],
  options: {
    readonly env?: Record<string, string | undefined>;
    readonly answers?: readonly string[];
    readonly home?: string;
    readonly now?: () => Date;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const answers = [...(options.answers ?? [])];
  const context: CliContext = {
    env: options.env ?? {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ask:
      options.answers === undefined
        ? undefined
        : async (question) => {
            stderr += question;
            const answer = answers.shift();
            if (answer === undefined) throw new Error(`unexpected prompt: ${question}`);
            return answer;
          },
    home: options.home ?? '/nonexistent-home',
    platform: 'linux',
    now: options.now ?? (() => new Date()),
  };
  const exitCode = await runCli(argv, context);
  return {
    exitCode,
    stdout,
    stderr,
    json: <T>() => JSON.parse(stdout) as T,
  };
}
