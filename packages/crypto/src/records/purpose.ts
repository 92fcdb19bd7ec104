import { RecordPurpose } from '@ratsfach/domain';

/**
 * Every purpose a ratsfach signature can have: the domain's record purposes plus three signed
 * objects outside any stream's chain (an enrolment request, a login proof, the service's signed
 * tree head). Each becomes the label `ratsfach/v1/<purpose>` inside the signed bytes.
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

export const isPurpose = (value: string): value is Purpose => purposes.has(value);
