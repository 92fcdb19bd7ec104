import type { Command } from 'commander';
import type { CliContext } from '../cli/cliContext.js';
import { commandAction, type CommandRun } from '../cli/commandAction.js';
import { readPassphrase, type PassphraseSources } from '../cli/passphrase.js';
import { cryptoReady } from '@ratsfach/crypto';
import { formatFingerprint, openRootKeyFile, readRootKeyInfo } from './rootKeyFile.js';

/** Where the root key file's passphrase comes from: its own file option, env var, or a prompt. */
export function rootPassphraseSources(run: CommandRun): PassphraseSources {
  const options = run.command.optsWithGlobals<{ rootPassphraseFile?: string }>();
  return {
    file: options.rootPassphraseFile,
    envValue: run.context.env.RATSFACH_ROOT_PASSPHRASE,
    envName: 'RATSFACH_ROOT_PASSPHRASE',
    fileOption: '--root-passphrase-file',
    ask: run.context.ask,
  };
}

const rootOptions = (command: Command): Command =>
  command
    .requiredOption('--root <file>', 'the root key file (keep it offline)')
    .option(
      '--root-passphrase-file <file>',
      'file holding the root passphrase (else $RATSFACH_ROOT_PASSPHRASE, else a prompt)',
    );

function registerRootCommands(admin: Command, context: CliContext): void {
  const root = admin.command('root').description("the tenant's offline trust root");
  rootOptions(
    root.command('fingerprint').description("print the root's fingerprint (no passphrase needed)"),
  ).action(
    commandAction(context, async (run) => {
      await cryptoReady();
      const info = await readRootKeyInfo(run.command.opts<{ root: string }>().root);
      run.output.result(
        { tenantId: info.tenantId, fingerprint: info.fingerprint, createdAt: info.createdAt },
        [
          `tenant ${info.tenantId}`,
          `root fingerprint ${formatFingerprint(info.fingerprint)}`,
          `created ${info.createdAt}`,
        ],
      );
    }),
  );
  rootOptions(
    root.command('check').description('open the root key file with its passphrase, change nothing'),
  ).action(
    commandAction(context, async (run) => {
      await cryptoReady();
      const path = run.command.opts<{ root: string }>().root;
      await readRootKeyInfo(path);
      const opened = await openRootKeyFile(
        path,
        await readPassphrase(rootPassphraseSources(run), 'root passphrase'),
      );
      run.output.result(
        { tenantId: opened.tenantId, fingerprint: opened.fingerprint, opened: true },
        [
          `the root key file opens: tenant ${opened.tenantId}`,
          `root fingerprint ${formatFingerprint(opened.fingerprint)}`,
          'Put it back offline.',
        ],
      );
    }),
  );
}

/** Registers `ratsfach admin …` (one line in program.ts). */
export function registerAdminCommands(program: Command, context: CliContext): void {
  const admin = program
    .command('admin')
    .description('set up and run a tenant: root, admin devices, people, committees, devices');
  registerRootCommands(admin, context);
}
