/**
 * Stable codes of the errors the `ratsfach` command raises itself (profiles, passphrases,
 * usage). Scripts match on these through `--json`, never on message text.
 */
export const CliErrorCode = {
  /** No passphrase was given and there is no terminal to ask on. */
  passphraseMissing: 'RATSFACH_CLI_PASSPHRASE_MISSING',
  /** A passphrase file that cannot be read or is empty. */
  passphraseFile: 'RATSFACH_CLI_PASSPHRASE_FILE',
  /** A new passphrase too short to resist guessing. */
  passphraseWeak: 'RATSFACH_CLI_PASSPHRASE_WEAK',
  /** The two entries of a new passphrase differ. */
  passphraseMismatch: 'RATSFACH_CLI_PASSPHRASE_MISMATCH',
  /** The profile directory holds no profile. */
  profileMissing: 'RATSFACH_CLI_PROFILE_MISSING',
  /** The profile directory already holds a profile (never overwritten). */
  profileExists: 'RATSFACH_CLI_PROFILE_EXISTS',
  /** A profile file that is not one this version wrote. */
  profileDamaged: 'RATSFACH_CLI_PROFILE_DAMAGED',
  /** The profile is of the other kind (a member's device for an admin command, say). */
  profileKind: 'RATSFACH_CLI_PROFILE_KIND',
  /** Options or arguments the command cannot use. */
  usage: 'RATSFACH_CLI_USAGE',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];
