import type { RecordVerifier } from '@ratsfach/kernel';
import type { TenantState } from './tenant/tenantStream.js';
import type { UserState } from './user/userStream.js';
import type { CommitteeState } from './committee/committeeStream.js';

/**
 * The state of other streams a decision needs, loaded by the command handler
 * (`contextRequirements` says which). One shape for every decider, so a handler can build it
 * generically; a decider refuses with RATSFACH_DOMAIN_CONTEXT_MISSING when a part it needs is
 * absent.
 */
export interface DomainContext {
  /** Checks signed records; implemented by `@ratsfach/crypto`. */
  readonly verifier: RecordVerifier;
  /** The tenant stream, for admin devices and the root. */
  readonly tenant?: TenantState;
  /** User streams by user id: the signer's, and the users a command names. */
  readonly users?: Readonly<Record<string, UserState>>;
  /** The committee stream a document or membership decision concerns. */
  readonly committee?: CommitteeState;
  /** The UTC day (`YYYYMMDD`) of the delivery stream being decided. */
  readonly day?: string;
}
