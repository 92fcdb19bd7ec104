/**
 * The purposes of signed objects. Devices (and the offline root) sign records; the label
 * `ratsfach/v1/<purpose>` is inside the signed bytes, so a signature made for one purpose never
 * verifies as another. `@ratsfach/crypto` encodes them, the domain judges them.
 */

/** Every signed record starts with this label, followed by its purpose (docs/design.md). */
export const recordLabelPrefix = 'ratsfach/v1/';

/**
 * The purposes of signed records. A signature made for one purpose never verifies as another,
 * because the full label (`ratsfach/v1/<purpose>`) is inside the signed bytes.
 */
export const RecordPurpose = {
  /** The tenant's genesis record, signed by the offline root. */
  tenantCreated: 'tenant-created',
  /** The root certifies an admin device. */
  adminDeviceCertificate: 'admin-device-certificate',
  /** The root revokes an admin device. */
  adminDeviceRevocation: 'admin-device-revocation',
  /** An admin device's heartbeat naming the tenant head and every member's user-chain head. */
  heartbeat: 'heartbeat',
  /** An admin device countersigns a signed tree head of the service's Merkle log. */
  checkpointCountersignature: 'checkpoint-countersignature',
  /** An admin device creates a user account. */
  userCreated: 'user-created',
  /** An admin device certifies a user device. */
  deviceCertificate: 'device-certificate',
  /** An admin device revokes a user device. */
  deviceRevocation: 'device-revocation',
  /** A device's record of the chain heads it has seen (fork detection). */
  headsSeen: 'heads-seen',
  /**
   * A device vouches for another device of the same user (or, for a user's first device, a
   * staff device of a committee does): only confirmed devices receive epoch keys.
   */
  deviceConfirmation: 'device-confirmation',
  /** An admin device creates a committee. */
  committeeCreated: 'committee-created',
  /** An admin device adds, removes or changes the role of a member. */
  membership: 'membership',
  /** A staff device co-signs a membership record (needed before keys are wrapped for it). */
  membershipCosignature: 'membership-cosignature',
  /** A staff device starts a key epoch. */
  keyEpoch: 'key-epoch',
  /** A staff device publishes wrapped epoch keys for devices. */
  epochKeys: 'epoch-keys',
  /** A staff or admin device sets the committee's retention rule. */
  retention: 'retention',
  /** An admin device places or lifts a legal hold. */
  legalHold: 'legal-hold',
  /** A staff device creates a document. */
  documentCreated: 'document-created',
  /** A staff device commits a document version. */
  version: 'version',
  /** A staff device moves a document (the encrypted folder changes). */
  documentMoved: 'document-moved',
  /** A staff device deletes a document (restorable). */
  documentDeleted: 'document-deleted',
  /** A staff device restores a deleted document. */
  documentRestored: 'document-restored',
  /** A staff device erases a document for good (its key slots are destroyed). */
  documentErased: 'document-erased',
} as const;
export type RecordPurpose = (typeof RecordPurpose)[keyof typeof RecordPurpose];

/**
 * Every purpose a ratsfach signature can have: the record purposes plus three signed objects
 * outside any stream's chain (an enrolment request, a login proof, the service's signed tree
 * head). Each becomes the label `ratsfach/v1/<purpose>` inside the signed bytes.
 */
export const Purpose = {
  ...RecordPurpose,
  /** A new device asks to be certified, binding its keys to the enrolment code (not chained). */
  enrolmentRequest: 'enrolment-request',
  /** A device answers a login challenge (not chained; never a record). */
  loginProof: 'login-proof',
  /** The service signs a tree head of its Merkle log (not chained). */
  checkpoint: 'checkpoint',
} as const;
export type Purpose = (typeof Purpose)[keyof typeof Purpose];

const purposes: ReadonlySet<string> = new Set(Object.values(Purpose));

/** Whether `value` is a known purpose (the part of a label after `ratsfach/v1/`). */
export const isPurpose = (value: string): value is Purpose => purposes.has(value);

/**
 * The body format version of each purpose whose body changed after records of it were signed
 * (absent: 1). The label carries it, `ratsfach/v1/<purpose>/v<n>` from version 2, so a record of
 * an older format is refused by its label (a superseded format), never misread by its body.
 * `heartbeat` 2: `committeeHeads` added (issue 8 item 1).
 */
export const purposeFormatVersions: { readonly [P in Purpose]?: number } = { heartbeat: 2 };

/** The label signed into a record of `purpose`: `ratsfach/v1/<purpose>[/v<n>]`. */
export const purposeLabel = (purpose: Purpose): string => {
  const version = purposeFormatVersions[purpose] ?? 1;
  return version === 1
    ? `${recordLabelPrefix}${purpose}`
    : `${recordLabelPrefix}${purpose}/v${version}`;
};

/** The full label for a record purpose (`purposeLabel` of it). */
export const recordLabel = (purpose: RecordPurpose): string => purposeLabel(purpose);

const purposeByLabel: ReadonlyMap<string, Purpose> = new Map(
  Object.values(Purpose).map((purpose) => [purposeLabel(purpose), purpose]),
);

/** The purpose whose current label is `label`, or undefined (unknown, or a superseded format). */
export const purposeOfLabel = (label: string): Purpose | undefined => purposeByLabel.get(label);

/**
 * The purpose `label` names in a format older than the current one (e.g. a heartbeat signed
 * before `committeeHeads`), or undefined. For a clear refusal, never for reading it.
 */
export const supersededPurposeOfLabel = (label: string): Purpose | undefined => {
  if (!label.startsWith(recordLabelPrefix)) return undefined;
  const [name, version] = label.slice(recordLabelPrefix.length).split('/v');
  if (name === undefined || !isPurpose(name)) return undefined;
  const current = purposeFormatVersions[name] ?? 1;
  const named = version === undefined ? 1 : Number(version);
  return Number.isInteger(named) && named >= 1 && named < current ? name : undefined;
};
