import type { AskHidden } from './passphrase.js';

/** Something text is written to (stdout, stderr, or a buffer in tests). */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * Everything the `ratsfach` command takes from its surroundings. The entry point (`main.ts`)
 * fills it from the process; tests fill it themselves, so no command reads `process.env`, the
 * clock or the terminal directly.
 */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Hidden prompt on a terminal; absent when stdin is not one (scripts, CI). */
  readonly ask?: AskHidden | undefined;
  /** The user's home directory, for the default profile directory. */
  readonly home: string;
  readonly platform: NodeJS.Platform;
  readonly now: () => Date;
  /**
   * Calls `stop` when the process is asked to end (SIGINT, SIGTERM), so a long-running command
   * (`ratsfach admin agent`) finishes its round and ends cleanly; returns the unregistering
   * function. Absent: nothing asks the command to stop.
   */
  readonly onStop?: ((stop: () => void) => () => void) | undefined;
}
