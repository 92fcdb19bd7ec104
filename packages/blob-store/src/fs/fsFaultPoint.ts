/**
 * Points inside the adapter's write paths where a test can stop the process (SIGKILL) to show
 * that no partial object ever becomes visible. Production code never sets the hook.
 */
export const FsFaultPoint = {
  /** A part's bytes are written but not yet synced nor marked present. */
  partWritten: 'partWritten',
  /** A part is synced and marked present. */
  partMarked: 'partMarked',
  /** Complete checked everything; the object is not linked into place yet. */
  beforeLink: 'beforeLink',
  /** The object is linked into place; the session directory still exists. */
  afterLink: 'afterLink',
  /** A one-shot put wrote and synced its temporary file; nothing is linked yet. */
  putSynced: 'putSynced',
  /** A one-shot put renamed its synced file into place; the shard directory is not synced yet. */
  putRenamed: 'putRenamed',
} as const;
export type FsFaultPoint = (typeof FsFaultPoint)[keyof typeof FsFaultPoint];

/** Test seam: awaited at each fault point. */
export type FsFaultHook = (point: FsFaultPoint) => Promise<void>;
