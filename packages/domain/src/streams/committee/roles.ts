/** The roles a person can hold: tenant admin for the whole tenant, the others per committee. */
export const Role = {
  tenantAdmin: 'tenantAdmin',
  staff: 'staff',
  reader: 'reader',
  deputy: 'deputy',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Roles a committee membership can carry (tenant admin is not a committee role). */
export const MemberRole = {
  staff: Role.staff,
  reader: Role.reader,
  deputy: Role.deputy,
} as const;
export type MemberRole = (typeof MemberRole)[keyof typeof MemberRole];

/** The rights the roles matrix grants. */
export const Right = {
  managePeopleAndDevices: 'managePeopleAndDevices',
  signMembership: 'signMembership',
  writeDocuments: 'writeDocuments',
  startEpochs: 'startEpochs',
  wrapKeys: 'wrapKeys',
  read: 'read',
} as const;
export type Right = (typeof Right)[keyof typeof Right];

/**
 * Who may do what (README.md shows it as a table). A tenant admin manages people and devices
 * and signs membership, but reads nothing by that right: reading needs a committee membership
 * that a staff device co-signed. Co-signing a membership addition uses the `wrapKeys` right,
 * because the co-signature is what lets keys be wrapped for the new member.
 */
export const rolesMatrix = {
  tenantAdmin: {
    managePeopleAndDevices: true,
    signMembership: true,
    writeDocuments: false,
    startEpochs: false,
    wrapKeys: false,
    read: false,
  },
  staff: {
    managePeopleAndDevices: false,
    signMembership: false,
    writeDocuments: true,
    startEpochs: true,
    wrapKeys: true,
    read: true,
  },
  reader: {
    managePeopleAndDevices: false,
    signMembership: false,
    writeDocuments: false,
    startEpochs: false,
    wrapKeys: false,
    read: true,
  },
  deputy: {
    managePeopleAndDevices: false,
    signMembership: false,
    writeDocuments: false,
    startEpochs: false,
    wrapKeys: false,
    read: true,
  },
} as const satisfies Readonly<Record<Role, Readonly<Record<Right, boolean>>>>;

/** Whether `role` holds `right` by the roles matrix. */
export const hasRight = (role: Role, right: Right): boolean => rolesMatrix[role][right];

/**
 * Whether a committee member counts for keys (and for every right of their role): a
 * membership addition takes effect only once a staff device co-signed it.
 */
export const membershipEffective = (member: { readonly cosigned: boolean }): boolean =>
  member.cosigned;
