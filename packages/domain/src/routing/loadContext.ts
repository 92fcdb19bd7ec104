import { parseStreamName, type RecordVerifier, StreamKind, streamName } from '@ratsfach/kernel';
import type { DomainContext } from '../streams/domainContext.js';
import { contextRequirements, deciders } from './deciders.js';
import type { DomainCommand, DomainEvent } from './deciders.js';
import type { TenantState } from '../streams/tenant/tenantStream.js';
import type { UserState } from '../streams/user/userStream.js';
import type { CommitteeState } from '../streams/committee/committeeStream.js';
import type { DocumentState } from '../streams/document/documentStream.js';
import { staffOf } from '../streams/committee/confirmedDevices.js';

/** Folds a stream's events with the decider of its kind (`deciders[kind].evolve`). */
export function foldStream(stream: string, events: Iterable<DomainEvent>): unknown {
  const decider = deciders[parseStreamName(stream).kind] as unknown as {
    evolve(state: unknown, event: DomainEvent): unknown;
    initialState(): unknown;
  };
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/**
 * Builds the `DomainContext` a command's decision needs. `loadState(stream)` returns the folded
 * state of a stream (for instance `foldStream(stream, decoded events)`; the initial state when
 * the stream does not exist). Loads exactly what `contextRequirements` names.
 */
export async function loadContext(
  command: DomainCommand,
  verifier: RecordVerifier,
  loadState: (stream: string) => Promise<unknown>,
): Promise<DomainContext> {
  const needs = contextRequirements(command);
  const tenantId = command.data.tenantId;
  const tenant = needs.tenant
    ? ((await loadState(streamName(StreamKind.tenant, tenantId))) as TenantState)
    : undefined;
  const users: Record<string, UserState> = {};
  for (const userId of needs.userIds) {
    users[userId] = (await loadState(streamName(StreamKind.user, tenantId, userId))) as UserState;
  }
  let committeeId: string | null = null;
  if (needs.committee === 'ofDocument') {
    const documentId = (command.data as { readonly documentId: string }).documentId;
    const document = (await loadState(
      streamName(StreamKind.document, tenantId, documentId),
    )) as DocumentState;
    committeeId = document.status === 'absent' ? null : document.committeeId;
  } else if (needs.committee !== null) {
    committeeId = needs.committee.committeeId;
  }
  const committee =
    committeeId === null
      ? undefined
      : ((await loadState(
          streamName(StreamKind.committee, tenantId, committeeId),
        )) as CommitteeState);
  const more: string[] = [];
  if (needs.keyHolders && committee?.status === 'active') {
    more.push(...committee.keyHolders.map(({ userId }) => userId));
  }
  if (needs.staff) {
    // A document command's committee is loaded above (none for an unknown document); a key
    // record's is its own stream.
    const own =
      needs.committee === null
        ? ((await loadState(
            streamName(
              StreamKind.committee,
              tenantId,
              (command.data as { committeeId: string }).committeeId,
            ),
          )) as CommitteeState)
        : committee;
    if (own !== undefined) more.push(...staffOf(own));
  }
  for (const userId of more) {
    if (!Object.hasOwn(users, userId)) {
      users[userId] = (await loadState(streamName(StreamKind.user, tenantId, userId))) as UserState;
    }
  }
  return {
    verifier,
    ...(tenant === undefined ? {} : { tenant }),
    ...(Object.keys(users).length > 0 ? { users } : {}),
    ...(committee === undefined ? {} : { committee }),
    ...(needs.day === null ? {} : { day: needs.day }),
  };
}
