import type { DomainEvent } from '@ratsfach/domain';
import type { ProjectedEvent } from '../readModelStore.js';
import type { RowChange } from '../tables.js';
import { ProjectionState } from './projectionState.js';

/**
 * A read-model projection in Emmett's shape: the event types it handles, its initial state,
 * and a pure `evolve` from (state, event) to the rows the event adds, changes or removes. The
 * state is the read model as it stood before the event (`ProjectionState`); the engine
 * (`projectEvents`) applies each projection's changes to it before the next one runs.
 */
export interface Projection {
  readonly name: string;
  readonly canHandle: ReadonlySet<DomainEvent['type']>;
  initialState(): ProjectionState;
  evolve(state: ProjectionState, event: ProjectedEvent): readonly RowChange[];
}

/** Builds a projection; `canHandle` is given as a list. */
export const defineProjection = (projection: {
  readonly name: string;
  readonly canHandle: readonly DomainEvent['type'][];
  readonly evolve: Projection['evolve'];
}): Projection => ({
  name: projection.name,
  canHandle: new Set(projection.canHandle),
  initialState: () => new ProjectionState(),
  evolve: projection.evolve,
});

/**
 * Runs events through the projections in order, keeping `state` in step, and returns every
 * row change in the order made. Deterministic: the same events on the same state give the
 * same changes, which is what makes a rebuild equal an incremental projection.
 */
export function projectEvents(
  projections: readonly Projection[],
  state: ProjectionState,
  events: Iterable<ProjectedEvent>,
  sink: RowChange[] = [],
): RowChange[] {
  for (const event of events) {
    for (const projection of projections) {
      if (!projection.canHandle.has(event.event.type)) continue;
      for (const change of projection.evolve(state, event)) {
        state.apply(change);
        sink.push(change);
      }
    }
  }
  return sink;
}

/** Lowercase hex of bytes (hashes are kept as text in the read models). */
export const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
