import { listRecords } from '@ratsfach/api-contract';
import { base64urlDecode } from '@ratsfach/kernel';
import type { ChainSource } from '../sync/syncOnce.js';
import type { ApiClient } from './apiClient.js';

/**
 * The tenant, user and committee chains from the records route, page by page, as the exact
 * signed bytes (the engine verifies them from the pinned root; nothing here is believed).
 */
export const recordsChainSource = (api: ApiClient, tenantId: string): ChainSource => ({
  chain: async (stream) => {
    const chain: Uint8Array[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const page: { records: readonly { record: string }[]; next: number | null } = await api.call(
        listRecords,
        {
          params: { tenantId },
          query: { stream, from: String(from) },
        },
      );
      for (const record of page.records) chain.push(base64urlDecode(record.record));
      from = page.next;
    }
    return chain;
  },
});
