import type { ChainHead, RecordBodies } from '@ratsfach/kernel';
import { linkChain } from '../chain/linkChain.js';
import type { CommitteeState } from '../committee/committeeState.js';
import { ChainError, CryptoErrorCode, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import type { ContentBinding } from '../content/binding.js';
import type { JudgingFloor } from '../identity/trustView.js';
import { misplacedRecord, openAnyRecord, type OpenedRecord } from '../records/signedRecord.js';

/**
 * The document's current metadata exactly as a staff device signed it (in the newest version
 * record, or in a later move record), with the binding it was encrypted under. Decrypt it with
 * `openSignedMetadata(presented, { signed: encryptedMetadata, binding, contentKey })`.
 */
export interface SignedMetadata {
  readonly encryptedMetadata: Uint8Array;
  /** Tenant, document, the version whose content key encrypts it, and that version's epoch. */
  readonly binding: ContentBinding;
  /** Chain position of the record that signed it. */
  readonly sequence: number;
}

/**
 * How a device judges a document chain (FORMAT.md "Judging new records"): the records it
 * accepted at an earlier sync (`accepted`, a prefix of the chain it kept in its seen heads) stay
 * judged at the positions they name; every record after them is judged at positions no older
 * than `floor`, the judging floor it stored at its last complete sync
 * (`TrustView.judgingFloor`). A device's first sync has no floor (`null`).
 */
export interface DocumentJudging {
  readonly accepted: number;
  readonly floor: JudgingFloor | null;
}

/** The judging of a device that never synced this committee: every record at its own positions. */
export const firstSync: DocumentJudging = { accepted: 0, floor: null };

/** A verified version of a document. */
export interface VerifiedVersion {
  readonly body: RecordBodies['version'];
  readonly sequence: number;
  readonly hash: Uint8Array;
  readonly authorFingerprint: string;
}

const documentPurposes: ReadonlySet<string> = new Set([
  'document-created',
  'version',
  'document-moved',
  'document-deleted',
  'document-restored',
  'document-erased',
]);

const refuse = (message: string, details: Record<string, unknown> = {}): TrustError =>
  new TrustError(CryptoErrorCode.unauthorisedSigner, message, {
    hint: 'The document change is refused and local files stay as they are.',
    details,
  });

/**
 * The fold of a document's chain: only records signed by a staff device of the committee,
 * confirmed for it (FORMAT.md "Device confirmation"), valid at the positions they name, written
 * against a committee head this device has verified. A document, version, move, deletion or
 * erasure the server made up never appears here; a device changes or wipes local plaintext only
 * on what this fold returns.
 */
export class DocumentState {
  readonly documentId: string;
  readonly head: ChainHead;
  /** The hashes of the chain's records by position (for the device's seen heads). */
  readonly hashes: readonly Uint8Array[];
  readonly versions: readonly VerifiedVersion[] = [];
  /**
   * The signed metadata of the head version: from the newest version record, or from a move
   * record signed after it (null before the first version).
   */
  metadata: SignedMetadata | null = null;
  deleted = false;
  erased = false;

  /** Tenant position and committee head length the newest record names: never lower after. */
  private named = { tenantPosition: 0, committeeLength: 0 };

  private constructor(
    private readonly committee: CommitteeState,
    records: readonly OpenedRecord[],
    private readonly judging: DocumentJudging,
  ) {
    const hashes = linkChain(records, 'document');
    this.hashes = hashes;
    const first = records[0];
    if (first === undefined || first.purpose !== 'document-created') {
      throw refuse('a document chain starts with document-created');
    }
    this.documentId = (first.body as RecordBodies['document-created']).documentId;
    for (const record of records) this.fold(record);
    this.head = { length: records.length, hash: hashes[records.length - 1] as Uint8Array };
  }

  /**
   * Folds a document chain (stored bytes, from its first record) under a verified committee,
   * judging records past `judging.accepted` at no older positions than `judging.floor`.
   */
  static fold(
    committee: CommitteeState,
    chain: readonly Uint8Array[],
    judging: DocumentJudging,
  ): DocumentState {
    return new DocumentState(
      committee,
      chain.map((bytes) => openAnyRecord(bytes)),
      judging,
    );
  }

  /** The newest version, if any. */
  get latest(): VerifiedVersion | undefined {
    return this.versions[this.versions.length - 1];
  }

  private fold(record: OpenedRecord): void {
    if (!documentPurposes.has(record.purpose)) throw misplacedRecord(record, 'a document chain');
    const body = record.body as RecordBodies['document-deleted'];
    const c = this.committee;
    if (
      body.tenantId !== c.tenantId ||
      body.committeeId !== c.committeeId ||
      (record.sequence > 0 && body.documentId !== this.documentId)
    ) {
      throw refuse(`${record.purpose} names another committee or document`);
    }
    const named = body.committeeHead;
    const snapshot = c.snapshotAt(named.length);
    if (
      snapshot === undefined ||
      !constantTimeEqual(c.hashes[named.length - 1] as Uint8Array, named.hash)
    ) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `${record.purpose} names a committee head this device has not verified`,
        { hint: 'Sync the committee chain, then verify again.', details: { length: named.length } },
      );
    }
    // A record naming positions older than its predecessor's would be judged where its signer
    // was still valid (before a revocation, a removal or an epoch): refused, as in the
    // committee and user chains.
    if (
      body.tenantPosition < this.named.tenantPosition ||
      named.length < this.named.committeeLength
    ) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `${record.purpose} at ${record.sequence} names tenant position ${body.tenantPosition} and committee head ${named.length}, older than its predecessor's (${this.named.tenantPosition}, ${this.named.committeeLength})`,
        {
          hint: 'A record may not be back-dated before its chain; refused.',
          details: { sequence: record.sequence },
        },
      );
    }
    this.named = { tenantPosition: body.tenantPosition, committeeLength: named.length };
    if (this.erased) throw refuse(`${record.purpose} after erasure`);
    // A record new to this device is judged no older than its floor: a revoked, removed or
    // expired device cannot pick positions from before it lost its rights.
    const floor = record.sequence >= this.judging.accepted ? this.judging.floor : null;
    const position = Math.max(body.tenantPosition, floor?.tenantPosition ?? 0);
    const staffAt =
      floor !== null && floor.committeeLength > named.length
        ? (c.snapshotAt(Math.min(floor.committeeLength, c.head.length)) ?? snapshot).staff
        : snapshot.staff;
    if (position > this.committee.trustHeadLength) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `${record.purpose} is judged at tenant position ${position}, beyond this device's tenant chain`,
        { hint: 'Sync the tenant chain, then verify again.', details: { position } },
      );
    }
    const signer = c.requireConfirmedStaffDevice(record, position, staffAt);
    switch (record.purpose) {
      case 'document-created':
        if (record.sequence !== 0) throw refuse('document created twice');
        return;
      case 'version': {
        const v = record.body as RecordBodies['version'];
        const previous = this.latest?.body.version ?? null;
        if (
          v.version !== (previous ?? 0) + 1 ||
          v.parentVersion !== previous ||
          v.epoch !== snapshot.epoch
        ) {
          throw refuse(
            `version ${v.version} (parent ${v.parentVersion}, epoch ${v.epoch}) does not follow`,
            {
              version: v.version,
            },
          );
        }
        if (this.deleted) throw refuse('a version of a deleted document');
        if (v.authorDeviceId !== signer.deviceId) {
          throw refuse(
            `version ${v.version} names author ${v.authorDeviceId}, signed by ${signer.deviceId}`,
            { version: v.version },
          );
        }
        (this.versions as VerifiedVersion[]).push({
          body: v,
          sequence: record.sequence,
          hash: record.hash,
          authorFingerprint: record.signerFingerprint,
        });
        this.metadata = {
          encryptedMetadata: v.encryptedMetadata,
          binding: {
            tenantId: v.tenantId,
            documentId: v.documentId,
            version: v.version,
            epoch: v.epoch,
          },
          sequence: record.sequence,
        };
        return;
      }
      case 'document-moved': {
        const m = record.body as RecordBodies['document-moved'];
        const head = this.latest?.body;
        // New metadata is encrypted under the head version's content key, so it must name that
        // version: metadata bound to an older one would bring back an older key's name.
        if (head === undefined || m.version !== head.version) {
          throw refuse(
            `a move names version ${m.version}, the head is ${head?.version ?? 'none'}`,
            { version: m.version },
          );
        }
        if (this.deleted) throw refuse('a move of a deleted document');
        this.metadata = {
          encryptedMetadata: m.encryptedMetadata,
          binding: {
            tenantId: head.tenantId,
            documentId: head.documentId,
            version: head.version,
            epoch: head.epoch,
          },
          sequence: record.sequence,
        };
        return;
      }
      case 'document-deleted':
        this.deleted = true;
        return;
      case 'document-restored':
        if (!this.deleted) throw refuse('restore of a document that is not deleted');
        this.deleted = false;
        return;
      case 'document-erased':
        this.erased = true;
        return;
      default:
        throw misplacedRecord(record, 'a document chain');
    }
  }
}
