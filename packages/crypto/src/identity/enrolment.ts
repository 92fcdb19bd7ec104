import { requireUsableKemKey } from '../committee/epochKeyWrap.js';
import { concatBytes, type RecordBodies, recordSchemas } from '@ratsfach/kernel';
import { ByteWriter } from '../codec/byteWriter.js';
import { encodeFields } from '../codec/fieldCodec.js';
import { CryptoErrorCode, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import type { DeviceKeys, SigningKeyPair } from '../keys/deviceKeys.js';
import { sodium } from '../sodium.js';
import { openRecord, signRecord, unchained, type ChainLink } from '../records/signedRecord.js';
import type { EnrolmentCode } from './enrolmentCode.js';

const utf8 = new TextEncoder();
const macKeyLabel = utf8.encode('ratsfach/v1/enrolment-mac-key');

/** What a new device states about itself when it enrols. */
export interface EnrolmentClaim {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
}

/** The MAC key: BLAKE2b-256 keyed with the code's secret over its own label and the code id. */
const macKey = (code: Pick<EnrolmentCode, 'codeId' | 'secret'>): Uint8Array => {
  return sodium().crypto_generichash(32, concatBytes(macKeyLabel, code.codeId), code.secret);
};

/**
 * The MAC binds user, device, code id and both public keys: it is computed over the canonical
 * encoding of the request's fields without the MAC, with the purpose label in front.
 */
const enrolmentMac = (
  code: Pick<EnrolmentCode, 'codeId' | 'secret'>,
  body: Omit<RecordBodies['enrolment-request'], 'mac'>,
): Uint8Array => {
  const w = new ByteWriter();
  w.bytes(utf8.encode('ratsfach/v1/enrolment-mac'));
  const schema = recordSchemas['enrolment-request'].filter(([name]) => name !== 'mac');
  encodeFields(w, schema, body as never, 'enrolment-mac');
  const key = macKey(code);
  try {
    return sodium().crypto_generichash(32, w.finish(), key);
  } finally {
    sodium().memzero(key);
  }
};

/**
 * The new device's enrolment request: its public keys and ids, MACed under the code's secret
 * and signed with its own signing key (proof that it holds the key). Sent to the server.
 */
export function createEnrolmentRequest(
  code: EnrolmentCode,
  claim: EnrolmentClaim,
  keys: DeviceKeys,
): Uint8Array {
  const body = {
    tenantId: claim.tenantId,
    userId: claim.userId,
    deviceId: claim.deviceId,
    codeId: code.codeId,
    signingKey: keys.signing.publicKey,
    kemKey: keys.kem.publicKey,
  };
  return signRecord(
    'enrolment-request',
    unchained,
    { ...body, mac: enrolmentMac(code, body) },
    keys.signing,
  );
}

/**
 * The admin device's check of an enrolment request against the code it handed out: signature
 * by the key in the request, the code id, and the MAC. Keys, user or device swapped in transit
 * fail with TrustError `enrolmentMac`.
 */
export function checkEnrolmentRequest(
  bytes: Uint8Array,
  code: Pick<EnrolmentCode, 'codeId' | 'secret'>,
): RecordBodies['enrolment-request'] {
  const opened = openRecord(bytes, 'enrolment-request');
  const { mac, ...rest } = opened.body;
  const macOk = constantTimeEqual(mac, enrolmentMac(code, rest));
  if (
    !macOk ||
    !constantTimeEqual(opened.body.codeId, code.codeId) ||
    !constantTimeEqual(opened.signerKey, opened.body.signingKey)
  ) {
    throw new TrustError(
      CryptoErrorCode.enrolmentMac,
      'the enrolment request does not match the code: keys or ids were changed in transit',
      { hint: 'Do not certify this device; enrol it again with a fresh code, in person.' },
    );
  }
  return opened.body;
}

/** Validity and chain position of a device certificate the admin device signs. */
export interface CertificateTerms {
  /** The tenant and user the admin issued the code for: a request naming others is refused. */
  readonly issuedFor: { readonly tenantId: string; readonly userId: string };
  readonly notBefore: number;
  readonly notAfter: number;
  /** The tenant chain's length the admin device knows (where its own validity is judged). */
  readonly tenantPosition: number;
  /** Where the certificate goes in the user's chain. */
  readonly link: ChainLink;
}

/** Default validity of a user device certificate: 30 days, renewed while in good standing. */
export const deviceCertificateSeconds = 30 * 24 * 3600;
/** Default validity of an admin device certificate: about a year. */
export const adminCertificateSeconds = 365 * 24 * 3600;

/**
 * Checks an enrolment request against its code (and the user it was issued for) and signs the
 * user device's certificate. Throws TrustError `enrolmentMac` before signing anything if the
 * request was tampered with or names another user.
 */
export function certifyEnrolledDevice(
  request: Uint8Array,
  code: Pick<EnrolmentCode, 'codeId' | 'secret'>,
  terms: CertificateTerms,
  admin: SigningKeyPair,
): Uint8Array {
  const body = checkEnrolmentRequest(request, code);
  if (body.tenantId !== terms.issuedFor.tenantId || body.userId !== terms.issuedFor.userId) {
    throw new TrustError(
      CryptoErrorCode.enrolmentMac,
      `the enrolment request is for ${body.userId}, the code was issued for ${terms.issuedFor.userId}`,
      { hint: 'Hand each person their own code; do not certify this device.' },
    );
  }
  requireUsableKemKey(body.kemKey);
  return signRecord(
    'device-certificate',
    terms.link,
    {
      tenantId: body.tenantId,
      userId: body.userId,
      deviceId: body.deviceId,
      signingKey: body.signingKey,
      kemKey: body.kemKey,
      notBefore: terms.notBefore,
      notAfter: terms.notAfter,
      tenantPosition: terms.tenantPosition,
      enrolmentCodeId: body.codeId,
    },
    admin,
  );
}
