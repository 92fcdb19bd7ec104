import { manifestDelta } from '@ratsfach/api-contract';
import type { ApiClient } from '../http/apiClient.js';
import type { LocalState } from '../ports/localState.js';

/** Settings the key work keeps in the profile's local state (its own manifest cursor). */
export const KeysSetting = {
  cursor: 'keys.manifestCursor',
  committees: 'keys.committees',
} as const;

/**
 * The committees this device's person belongs to, with the role the service's manifest last
 * named, read through the manifest delta with a cursor of its own (the sync pass keeps another).
 * Only a hint of which committee chains to fold: the role that counts is the verified fold's.
 */
export async function knownCommittees(
  api: ApiClient,
  state: Pick<LocalState, 'setting' | 'setSetting'>,
  tenantId: string,
  userId: string,
): Promise<Map<string, string | null>> {
  const roles = new Map<string, string | null>(
    Object.entries(
      JSON.parse(state.setting(KeysSetting.committees) ?? '{}') as Record<string, string | null>,
    ),
  );
  let cursor = state.setting(KeysSetting.cursor) ?? null;
  for (;;) {
    const delta = await api.call(manifestDelta, {
      params: { tenantId },
      query: cursor === null ? {} : { since: cursor },
    });
    for (const entry of delta.entries) {
      if (entry.committeeId === null) continue;
      const mine = entry.feed === 'user' && entry.userId === userId;
      if (mine && entry.type === 'Left') roles.delete(entry.committeeId);
      else if (mine && (entry.type === 'Joined' || entry.type === 'RoleChanged')) {
        roles.set(entry.committeeId, entry.role);
      } else if (!roles.has(entry.committeeId)) roles.set(entry.committeeId, null);
    }
    cursor = delta.cursor;
    if (!delta.hasMore) break;
  }
  state.setSetting(KeysSetting.committees, JSON.stringify(Object.fromEntries(roles)));
  state.setSetting(KeysSetting.cursor, cursor);
  return roles;
}
