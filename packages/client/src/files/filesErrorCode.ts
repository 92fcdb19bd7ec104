/**
 * Stable codes of the errors the commands about one synced file raise themselves (`ratsfach
 * history`, `restore`, `delete`, `undelete`). Scripts match on these through `--json`.
 */
export const FilesErrorCode = {
  /** The path is not a document this device synced (or no folder was synced yet). */
  unknownFile: 'RATSFACH_FILES_UNKNOWN_FILE',
  /** The document has no verified version with that number. */
  unknownVersion: 'RATSFACH_FILES_UNKNOWN_VERSION',
  /** This device's person is no staff member of the committee: it may read, not write. */
  notStaff: 'RATSFACH_FILES_NOT_STAFF',
  /** The local file holds changes not sent yet (or is behind): the command would lose them. */
  localChanges: 'RATSFACH_FILES_LOCAL_CHANGES',
  /** The document is not in the state the command needs (deleted, not deleted, erased). */
  wrongState: 'RATSFACH_FILES_WRONG_STATE',
  /** This device holds no key of the epoch a version is encrypted under. */
  noKey: 'RATSFACH_FILES_NO_KEY',
  /** The change was made but not sent: it waits in the queue. */
  notSent: 'RATSFACH_FILES_NOT_SENT',
} as const;
export type FilesErrorCode = (typeof FilesErrorCode)[keyof typeof FilesErrorCode];
