import { DocumentsErrorCode } from '@ratsfach/api-contract';
import { ForbiddenError, NotFoundError, Role, type MemberRole } from '@ratsfach/domain';
import type { DocumentSummary, ReadModelStore } from '@ratsfach/read-model';
import type { AuthenticatedDevice } from '../../plugins/auth.js';

/**
 * The committees the device's user may read now, with the role held in each: effective
 * memberships only (an addition counts once a staff device co-signed it). The read model is
 * scoped by the token's tenant, so a committee of another tenant is never among them.
 */
export async function effectiveRoles(
  readModel: ReadModelStore,
  device: AuthenticatedDevice,
): Promise<ReadonlyMap<string, MemberRole>> {
  const memberships = await readModel.memberships(device.tenantId, device.userId);
  return new Map(memberships.filter((m) => m.effective).map((m) => [m.committeeId, m.role]));
}

/**
 * The role the device's user holds in a committee, once effective; null for a non-member, a
 * removed member or a committee of another tenant.
 */
export async function effectiveRole(
  readModel: ReadModelStore,
  device: AuthenticatedDevice,
  committeeId: string,
): Promise<MemberRole | null> {
  return (await effectiveRoles(readModel, device)).get(committeeId) ?? null;
}

/** Refuses unless the device's user is an effective writer (staff) of the committee. */
export async function requireWriter(
  readModel: ReadModelStore,
  device: AuthenticatedDevice,
  committeeId: string,
): Promise<void> {
  if ((await effectiveRole(readModel, device, committeeId)) !== Role.staff) {
    throw new ForbiddenError(
      DocumentsErrorCode.notWriter,
      `user ${device.userId} is not a writer of committee ${committeeId}`,
      { hint: 'only staff members of a committee upload and commit its documents' },
    );
  }
}

/**
 * The document, if the device's user may read its committee; otherwise the same 404 as for a
 * document that does not exist, so a caller learns nothing about documents it may not read.
 */
export async function readableDocument(
  readModel: ReadModelStore,
  device: AuthenticatedDevice,
  documentId: string,
  /** The caller's `effectiveRoles`, when it checks many documents in one request. */
  roles?: ReadonlyMap<string, MemberRole>,
): Promise<DocumentSummary> {
  const document = await readModel.document(device.tenantId, documentId);
  if (document === null) throw documentNotFound(documentId);
  const role = roles
    ? roles.get(document.committeeId)
    : await effectiveRole(readModel, device, document.committeeId);
  if (role) return document;
  throw documentNotFound(documentId);
}

/** The one answer for a document or version that is absent or not readable by the caller. */
export const documentNotFound = (documentId: string, version?: number) =>
  new NotFoundError(
    DocumentsErrorCode.notFound,
    version === undefined
      ? `no document ${documentId} for this device`
      : `no version ${version} of document ${documentId} for this device`,
    { hint: 'sync the manifest: it lists the documents this device may read' },
  );
