/** Stable codes of the errors `ratsfach admin …` raises itself. */
export const AdminErrorCode = {
  /** The root key file is missing, unreadable or not a root key file. */
  rootFileUnreadable: 'RATSFACH_ADMIN_ROOT_FILE_UNREADABLE',
  /** The root key file exists already: a root is never overwritten. */
  rootFileExists: 'RATSFACH_ADMIN_ROOT_FILE_EXISTS',
  /** The root passphrase is wrong, or the file was changed. */
  rootPassphrase: 'RATSFACH_ADMIN_ROOT_PASSPHRASE',
  /** The root key file is for another tenant or root than this profile's. */
  rootMismatch: 'RATSFACH_ADMIN_ROOT_MISMATCH',
  /** An enrolment code this device did not issue, or whose secret it no longer holds. */
  unknownInvite: 'RATSFACH_ADMIN_UNKNOWN_INVITE',
  /** An enrolment code past its expiry. */
  inviteExpired: 'RATSFACH_ADMIN_INVITE_EXPIRED',
  /** A refused action that would leave the tenant or a committee without a keeper. */
  lastKeeper: 'RATSFACH_ADMIN_LAST_KEEPER',
  /** The service accepted a change but its projector is still behind at the command's deadline. */
  projectionLagging: 'RATSFACH_ADMIN_PROJECTION_LAGGING',
  /** The service accepted a change but reports its projector failing, or it makes no progress. */
  projectionFailing: 'RATSFACH_ADMIN_PROJECTION_FAILING',
  /**
   * The service's listing of the tenant's chains contradicts the verified chains: it withholds
   * one they name, names one that does not exist, or serves one shorter than a heartbeat saw it.
   */
  chainListing: 'RATSFACH_ADMIN_CHAIN_LISTING',
  /** A person, committee or device the command names does not exist. */
  unknown: 'RATSFACH_ADMIN_UNKNOWN',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];
