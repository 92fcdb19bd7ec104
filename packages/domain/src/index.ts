/**
 * The kernel's names (errors, ids, messages, records, canonical JSON) are the domain's
 * vocabulary: re-exported, so the domain's users import them from one place. The same symbols,
 * never a second meaning.
 */
export * from '@ratsfach/kernel';
export * from './domainErrorCode.js';
export * from './domainErrors.js';
export * from './streams/committee/roles.js';
export * from './chain.js';
export * from './valueEqual.js';
export * from './streams/checkRecord.js';
export * from './streams/domainContext.js';
export * from './streams/contextState.js';
export * from './streams/carried.js';
export * from './streams/tenant/tenantStream.js';
export * from './streams/user/userStream.js';
export * from './streams/committee/committeeStream.js';
export * from './streams/committee/confirmedDevices.js';
export * from './streams/document/documentStream.js';
export * from './streams/delivery/deliveryStream.js';
export * from './streams/tenant/tenantDecider.js';
export * from './streams/user/userDecider.js';
export * from './streams/committee/committeeDecider.js';
export * from './streams/document/documentDecider.js';
export * from './streams/delivery/deliveryDecider.js';
export * from './routing/deciders.js';
export * from './shape.js';
export * from './schemas/fieldSchemas.js';
export * from './schemas/commandSchemas.js';
export * from './schemas/eventSchemas.js';
export * from './codec/upcasters.js';
export * from './recordViews.js';
export * from './codec/eventSerializer.js';
export { isIsoTime, maxRecordBytes } from './validate.js';
export {
  requireAdminSigner,
  requireMemberSigner,
  requireRootSigner,
  requireUser,
  requireUserDevice,
  requireValidAt,
} from './streams/authorize.js';
export * from './routing/loadContext.js';
export * from './codec/streamSerializer.js';
export * from './routing/parseCommand.js';
