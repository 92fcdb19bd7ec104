import { decodeEvent, encodeEvent, parseStreamName, streamOfCommand } from '@ratsfach/domain';
import type { DomainCommand, DomainEvent } from '@ratsfach/domain';
import { Scenario } from '@ratsfach/domain/testing';
import type { ProjectedEvent } from '../src/index.js';
import { allProjections, MemoryRows, ProjectionState, projectEvents } from '../src/index.js';

/**
 * The domain's test scenario with a log: every event its commands decide is recorded, in
 * order, as the projector would hand it to a read model (encoded and decoded again, with a
 * log position and a stream revision).
 */
export class LoggedScenario extends Scenario {
  readonly logged: ProjectedEvent[] = [];
  readonly #revisions = new Map<string, bigint>();
  #position = 0n;
  /** Gap between log positions (the event store allows gaps). */
  positionStep = 1n;

  override exec(command: DomainCommand): DomainEvent[] {
    const events = super.exec(command);
    const stream = streamOfCommand(command);
    const name = parseStreamName(stream);
    for (const event of events) {
      const revision = this.#revisions.get(stream) ?? 0n;
      this.#revisions.set(stream, revision + 1n);
      this.#position += this.positionStep;
      this.logged.push({
        position: this.#position,
        stream,
        revision,
        kind: name.kind,
        tenantId: name.tenant,
        streamId: name.id,
        event: decodeEvent(encodeEvent(event)),
      });
    }
    return events;
  }

  /** Log entries from `from` (an index into `logged`). */
  since(from: number): ProjectedEvent[] {
    return this.logged.slice(from);
  }
}

/** Folds events through every projection into rows in memory. */
export function foldRows(events: readonly ProjectedEvent[]): MemoryRows {
  return new MemoryRows().apply(projectEvents(allProjections, new ProjectionState(), events));
}
