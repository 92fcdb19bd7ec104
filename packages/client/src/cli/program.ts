import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from '../admin/adminCommands.js';
import { registerSyncCommands } from './commands/registerSyncCommands.js';
import type { CliContext } from './cliContext.js';
import { addGlobalOptions, CommandExit } from './commandAction.js';
import { ExitCode } from './output.js';

/**
 * The `ratsfach` command. Each area registers its commands with one line here.
 */
export function createProgram(context: CliContext): Command {
  const program = addGlobalOptions(
    new Command('ratsfach')
      .description('End-to-end-encrypted document sync for council work')
      .exitOverride()
      .configureOutput({
        writeOut: (text) => void context.stdout.write(text),
        writeErr: (text) => void context.stderr.write(text),
      })
      .showHelpAfterError(),
  );
  registerAdminCommands(program, context);
  registerSyncCommands(program, context);
  return program;
}

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<ExitCode> {
  const program = createProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommandExit) return error.exitCode;
    if (error instanceof CommanderError) {
      // Help and version end with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    throw error;
  }
}
