/**
 * The choices records encode as one byte: the index into these lists. The order is part of the
 * format (FORMAT.md); append, never reorder.
 */

/** The kinds of membership change an admin device signs, in encoding order. */
export const membershipChanges = ['add', 'remove', 'changeRole'] as const;

/** The kinds of membership change an admin device signs. */
export const MembershipChange = {
  add: 'add',
  remove: 'remove',
  changeRole: 'changeRole',
} as const satisfies { readonly [K in (typeof membershipChanges)[number]]: K };
export type MembershipChange = (typeof membershipChanges)[number];

/** The roles a committee membership can carry, in encoding order. */
export const committeeRoles = ['staff', 'reader', 'deputy'] as const;
/** A role a committee membership can carry (tenant admin is not a committee role). */
export type CommitteeRole = (typeof committeeRoles)[number];

/** Why a key epoch starts, in encoding order. */
export const epochReasons = ['initial', 'removal', 'revocation', 'rotation'] as const;
/** Why a key epoch starts. */
export type EpochReason = (typeof epochReasons)[number];
