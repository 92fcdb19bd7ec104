// Devices of a document world that sync a folder with the real engine: their own local state,
// folder and spool, the real service behind them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintBytes, pinnedRootLength } from '@ratsfach/crypto';
import type {
  documentWorld,
  WorldDevice,
} from '../../../../services/api/test/helpers/documentWorld.js';
import { NodeFileSystem, plaintextHash } from '../../src/node/nodeFileSystem.js';
import { SqliteLocalState } from '../../src/node/sqliteLocalState.js';
import { defaultDeletionGuard } from '../../src/sync/plan.js';
import { SendSpool } from '../../src/sync/sendSpool.js';
import { syncAndSend, type SyncAndSendOptions } from '../../src/sync/sendSync.js';

type World = Awaited<ReturnType<typeof documentWorld>>;

/** A device with a folder, a state file and a spool, syncing against the world's service. */
export const syncingDevice = (
  t: { teardown(fn: () => unknown): void },
  w: World,
  device: WorldDevice,
  name: string,
) => {
  const folder = mkdtempSync(join(tmpdir(), `ratsfach-${name}-`));
  const profile = mkdtempSync(join(tmpdir(), `ratsfach-${name}-profile-`));
  const state = new SqliteLocalState(join(profile, 'sync-state.sqlite'));
  t.teardown(() => state.close());
  const spool = new SendSpool(join(profile, 'outgoing'));
  const rootPin = fingerprintBytes(w.rootKey(device.tenantId)).slice(0, pinnedRootLength);
  const options = (extra: Partial<SyncAndSendOptions> = {}): SyncAndSendOptions => ({
    fetch: {
      api: device.api,
      baseUrl: w.baseUrl,
      token: device.token,
      tenantId: device.tenantId,
    },
    chains: { chain: w.chain },
    device: {
      tenantId: device.tenantId,
      userId: device.userId,
      deviceId: device.deviceId,
      keys: device.keys,
      rootPin,
      name,
    },
    state,
    fs: new NodeFileSystem(folder),
    hash: plaintextHash,
    now: new Date(),
    deletionGuard: defaultDeletionGuard,
    confirmDeletions: false,
    root: folder,
    spool,
    ...extra,
  });
  return {
    folder,
    profile,
    state,
    spool,
    options,
    /** One `ratsfach sync`: pull, plan, send; waits for the projector after it. */
    sync: async (extra: Partial<SyncAndSendOptions> = {}) => {
      const report = await syncAndSend(options(extra));
      await w.settled();
      return report;
    },
  };
};
