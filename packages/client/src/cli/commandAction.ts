import type { Command } from 'commander';
import type { CliContext } from './cliContext.js';
import { ExitCode, Output } from './output.js';
import type { PassphraseSources } from './passphrase.js';
import { defaultProfileDir } from './profile.js';

/** The options every `ratsfach` command takes (declared once on the program). */
export interface GlobalOptions {
  readonly profile?: string;
  readonly json?: boolean;
  readonly passphraseFile?: string;
}

/** What a command's handler gets: the surroundings, its output and the resolved globals. */
export interface CommandRun {
  readonly context: CliContext;
  readonly output: Output;
  /** `--profile`, else `RATSFACH_PROFILE`, else the default directory. */
  readonly profileDir: string;
  /** Where this device's passphrase comes from: `--passphrase-file`, `RATSFACH_PASSPHRASE`, prompt. */
  readonly devicePassphrase: PassphraseSources;
  /** The command being run: `command.args`, `command.opts()`. */
  readonly command: Command;
}

/** Thrown by an action after it reported: carries the exit code out of commander. */
export class CommandExit extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** Declares the global options on the program (once, in program.ts). */
export function addGlobalOptions(program: Command): Command {
  return program
    .option(
      '--profile <dir>',
      'device profile directory (default: $RATSFACH_PROFILE, else under $XDG_DATA_HOME/ratsfach)',
    )
    .option('--json', 'print the result as one JSON document')
    .option(
      '--passphrase-file <file>',
      "file holding this device's passphrase (else $RATSFACH_PASSPHRASE, else a prompt)",
    );
}

/** The resolved globals of a command, from its options and the environment. */
export function commandRun(context: CliContext, command: Command): CommandRun {
  const globals = command.optsWithGlobals<GlobalOptions>();
  return {
    context,
    command,
    output: new Output(globals.json === true, context.stdout, context.stderr),
    profileDir:
      globals.profile ??
      (context.env.RATSFACH_PROFILE ||
        defaultProfileDir(context.env, context.home, context.platform)),
    devicePassphrase: {
      file: globals.passphraseFile,
      envValue: context.env.RATSFACH_PASSPHRASE,
      envName: 'RATSFACH_PASSPHRASE',
      fileOption: '--passphrase-file',
      ask: context.ask,
    },
  };
}

/**
 * Wraps a command's handler for commander: resolves the globals, reports an error with its code
 * and hint (as JSON with `--json`), and ends with the handler's exit code.
 */
export function commandAction(
  context: CliContext,
  handler: (run: CommandRun) => Promise<ExitCode | void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const run = commandRun(context, command);
    let code: ExitCode;
    try {
      code = (await handler(run)) ?? ExitCode.ok;
    } catch (error) {
      code = run.output.error(error);
    }
    if (code !== ExitCode.ok) throw new CommandExit(code);
  };
}
