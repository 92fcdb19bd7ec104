import type { EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import type { DomainCommands } from '../commands/domainCommands.js';
import type { ServiceState } from '../state/serviceState.js';

/** What the identity areas (bootstrap, enrolment, directory, records) are registered with. */
export interface IdentityRouteOptions {
  readonly eventStore: EventStore;
  readonly commands: DomainCommands;
  readonly state: ServiceState;
  readonly readModel: ReadModelStore;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** The operator's bootstrap token; null: bootstraps from loopback only. */
  readonly bootstrapToken: string | null;
}
