export * from './errors.js';
export * from './streamName.js';
export * from './decider.js';
export * from './signedRecord.js';
export * from './domainErrorCode.js';
export * from './message.js';
export * from './roles.js';
export * from './chain.js';
export * from './valueEqual.js';
export * from './base64url.js';
export * from './canonicalJson.js';
export * from './checkRecord.js';
export * from './domainContext.js';
export * from './tenantStream.js';
export * from './userStream.js';
export * from './committeeStream.js';
export * from './documentStream.js';
export * from './deliveryStream.js';
export * from './tenantDecider.js';
export * from './userDecider.js';
export * from './committeeDecider.js';
export * from './documentDecider.js';
export * from './deliveryDecider.js';
export * from './deciders.js';
export * from './shape.js';
export * from './eventShapes.js';
export * from './upcasters.js';
export * from './recordViews.js';
export * from './eventSerializer.js';
export { isIsoTime, maxRecordBytes } from './validate.js';
export {
  requireAdminSigner,
  requireMemberSigner,
  requireRootSigner,
  requireUser,
  requireUserDevice,
  requireValidAt,
} from './authorize.js';
export * from './loadContext.js';
export * from './streamSerializer.js';
export * from './parseCommand.js';
