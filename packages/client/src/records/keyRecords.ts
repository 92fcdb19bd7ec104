import {
  openRecord,
  peekLabel,
  signRecord,
  type ChainLink,
  type SigningKeyPair,
} from '@ratsfach/crypto';
import type { SeenHead } from '@ratsfach/domain';
import type { CommandJsonOf } from '@ratsfach/api-contract';
import { toCommandJson, type CommandOptions } from './toCommandJson.js';

/** A device a wrapped key is for, as the command names it. */
export interface KeyRecipient {
  readonly userId: string;
  readonly deviceId: string;
}

/** Where the user and device of a key fingerprint are known (the crypto `TrustView`). */
export interface RecipientDirectory {
  device(fingerprint: string): { readonly userId: string; readonly deviceId: string } | undefined;
}

/**
 * The recipients a key-epoch or epoch-keys record wraps for, by user and device, in the
 * record's order: the command must name exactly these. Throws TypeError for a fingerprint the
 * directory does not know (the record was made from another view than the one given).
 */
export function recipientsOfKeyRecord(
  record: Uint8Array,
  directory: RecipientDirectory,
): KeyRecipient[] {
  const opened =
    peekLabel(record) === 'ratsfach/v1/key-epoch'
      ? openRecord(record, 'key-epoch')
      : openRecord(record, 'epoch-keys');
  return opened.body.wrappedKeys.map(({ recipient }) => {
    const device = directory.device(recipient);
    if (device === undefined) {
      throw new TypeError(`no certified device has the fingerprint ${recipient}`);
    }
    return { userId: device.userId, deviceId: device.deviceId };
  });
}

/** A key record a staff device signed (crypto's `startEpoch` or `wrapForNewDevices`). */
export interface KeyRecordInput {
  readonly tenantId: string;
  readonly committeeId: string;
  /** The epoch the record starts or wraps keys of. */
  readonly epoch: number;
  /** The staff member and device that signed the record. */
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  /** The signed record's bytes. */
  readonly record: Uint8Array;
  /** Every device the record wraps for (`recipientsOfKeyRecord`). */
  readonly recipients: readonly KeyRecipient[];
}

const keyData = (input: KeyRecordInput) => ({
  tenantId: input.tenantId,
  committeeId: input.committeeId,
  signerDeviceId: input.signerDeviceId,
  signerUserId: input.signerUserId,
  epoch: input.epoch,
  recipients: input.recipients.map(({ userId, deviceId }) => ({ userId, deviceId })),
  record: input.record,
});

/**
 * `StartKeyEpoch`: wraps the record crypto's `startEpoch` signed (a new epoch key for every
 * certified device of every co-signed member) into its command.
 */
export function startKeyEpochCommand(
  input: KeyRecordInput,
  options?: CommandOptions,
): CommandJsonOf<'StartKeyEpoch'> {
  return toCommandJson('StartKeyEpoch', keyData(input), options);
}

/**
 * `WrapEpochKeys`: wraps the record crypto's `wrapForNewDevices` signed (the current epoch key
 * for member devices that lack it) into its command.
 */
export function wrapEpochKeysCommand(
  input: KeyRecordInput,
  options?: CommandOptions,
): CommandJsonOf<'WrapEpochKeys'> {
  return toCommandJson('WrapEpochKeys', keyData(input), options);
}

export interface HeadsSeenInput {
  readonly tenantId: string;
  /** The signing device's user: the record goes to that user's chain. */
  readonly userId: string;
  readonly deviceId: string;
  readonly tenantPosition: number;
  /** The user chain's link (its length and head hash) the record extends. */
  readonly link: ChainLink;
  /** The chain heads this device has seen and verified (crypto's `SeenHeads.heads()`). */
  readonly heads: readonly SeenHead[];
  readonly signer: SigningKeyPair;
}

/**
 * `RecordHeadsSeen`: a device signs the chain heads it has seen, on its user's chain, so other
 * devices can detect a server that shows them different histories (docs/security.md 2).
 */
export function headsSeenCommand(
  input: HeadsSeenInput,
  options?: CommandOptions,
): CommandJsonOf<'RecordHeadsSeen'> {
  const { tenantId, userId, deviceId, tenantPosition } = input;
  const record = signRecord(
    'heads-seen',
    input.link,
    {
      tenantId,
      userId,
      deviceId,
      tenantPosition,
      heads: input.heads.map(({ stream, length, hash }) => ({ stream, length, hash })),
    },
    input.signer,
  );
  return toCommandJson('RecordHeadsSeen', { tenantId, userId, deviceId, record }, options);
}
