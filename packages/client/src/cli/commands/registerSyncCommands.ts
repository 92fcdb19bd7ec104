import type { Command } from 'commander';
import type { CliContext } from '../cliContext.js';
import { registerCommittees } from './committees.js';
import { registerConfirm } from './confirm.js';
import { registerDelete, registerUndelete } from './deleteFile.js';
import { registerDevices } from './devices.js';
import { registerEnrol } from './enrol.js';
import { registerHeads } from './heads.js';
import { registerHistory } from './history.js';
import { registerKeys } from './keys.js';
import { registerRestore } from './restore.js';
import { registerStatus } from './status.js';
import { registerSync } from './sync.js';

/** The user commands of the sync client: one line each here, the work in their own files. */
export const registerSyncCommands = (program: Command, context: CliContext): void => {
  registerEnrol(program, context);
  registerStatus(program, context);
  registerSync(program, context);
  registerHeads(program, context);
  registerKeys(program, context);
  registerConfirm(program, context);
  registerHistory(program, context);
  registerRestore(program, context);
  registerDelete(program, context);
  registerUndelete(program, context);
  registerDevices(program, context);
  registerCommittees(program, context);
};
