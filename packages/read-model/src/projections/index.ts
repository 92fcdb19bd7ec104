import type { Projection } from './projection.js';
import { committeeFeedProjection } from './committeeFeed.js';
import { userFeedProjection } from './userFeed.js';
import { manifestProjection } from './manifest.js';
import { blobReferencesProjection } from './blobReferences.js';
import { documentsProjection } from './documents.js';
import { auditIndexProjection } from './auditIndex.js';
import { authorizationProjection } from './authorization.js';

export * from './projection.js';
export * from './projectionState.js';
export * from './membershipTransition.js';
export {
  committeeFeedProjection,
  userFeedProjection,
  manifestProjection,
  blobReferencesProjection,
  documentsProjection,
  auditIndexProjection,
  authorizationProjection,
};

/**
 * Every projection, in the order the stores run them on each event: the feeds and the manifest
 * compare memberships before and after, so authorisation (which writes them) comes last; the
 * manifest records a leave at the committee-feed head, so it follows the committee feed.
 */
export const allProjections: readonly Projection[] = [
  committeeFeedProjection,
  userFeedProjection,
  manifestProjection,
  blobReferencesProjection,
  documentsProjection,
  auditIndexProjection,
  authorizationProjection,
];
