import { decodeEvent, parseStreamName } from '@ratsfach/domain';
import type { RecordedEvent } from '@ratsfach/event-store';
import type { ProjectedEvent } from '@ratsfach/read-model';

/**
 * Decodes a stored event for the read models: the domain event at its current version (the
 * upcasters run) with its positions and the parts of its stream name. Throws the domain's
 * typed errors for an event this code cannot read (an unknown type or a newer version: the
 * projector stops rather than skip it, because a skipped event is a wrong read model).
 */
export function toProjectedEvent(recorded: RecordedEvent): ProjectedEvent {
  const name = parseStreamName(recorded.stream);
  return {
    position: recorded.globalPosition,
    stream: recorded.stream,
    revision: recorded.revision,
    kind: name.kind,
    tenantId: name.tenant,
    streamId: name.id,
    event: decodeEvent(recorded),
  };
}
