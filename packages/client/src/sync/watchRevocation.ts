import { fingerprint, TrustView } from '@ratsfach/crypto';
import type { FileSystem } from '../ports/fileSystem.js';
import type { LocalState } from '../ports/localState.js';

/** The tenant chain and this device's user chain, as some server handed them over. */
export interface OwnChains {
  readonly tenant: readonly Uint8Array[];
  readonly user: readonly Uint8Array[];
  /** The chains of other users whose devices signed in these (device confirmations). */
  readonly signers?: Readonly<Record<string, readonly Uint8Array[]>>;
}

/** What this device's chains prove about it. */
export type RevocationVerdict =
  | {
      /** A revocation of this very key, signed by an admin device the pinned root certified. */
      readonly revoked: true;
      readonly deviceId: string;
      /** The tenant position from which the device counts as revoked. */
      readonly revokedAt: number;
    }
  | {
      readonly revoked: false;
      /** Why nothing may be wiped: no revocation record, or chains that do not verify. */
      readonly why: string;
    };

/**
 * Judges whether this device is revoked from its chains alone, trusting only the pinned root:
 * the chains must verify from the root (signatures, links, certificates), and the user chain
 * must hold a revocation of this device's signing key. Anything else (a server that says
 * "revoked" without the record, a forged or broken chain) proves nothing: the verdict says why.
 */
export const judgeRevocation = (
  chains: OwnChains,
  device: {
    readonly rootPin: Uint8Array;
    readonly userId: string;
    readonly signingKey: Uint8Array;
  },
): RevocationVerdict => {
  let trust: TrustView;
  try {
    trust = TrustView.build({
      rootPin: device.rootPin,
      tenantChain: chains.tenant,
      userChains: { ...chains.signers, [device.userId]: chains.user },
    });
  } catch (error) {
    return {
      revoked: false,
      why: `the chains the server sent do not verify from the pinned root: ${(error as Error).message}`,
    };
  }
  const mine = trust.device(fingerprint(device.signingKey));
  if (mine === undefined || mine.userId !== device.userId) {
    return { revoked: false, why: 'the chains the server sent do not certify this device' };
  }
  if (mine.revokedAt === undefined) {
    return { revoked: false, why: 'no signed revocation of this device in its user chain' };
  }
  return { revoked: true, deviceId: mine.deviceId, revokedAt: mine.revokedAt };
};

/** What a wipe removed. */
export interface WipeReport {
  /** Synced files deleted (tree-relative paths). */
  readonly deleted: readonly string[];
  /** Of those, files edited here that were never sent (their edit is gone with the device). */
  readonly editedHere: readonly string[];
  /** Files that could not be deleted, with the reason (the user must delete them). */
  readonly failed: readonly { readonly path: string; readonly message: string }[];
}

/**
 * Wipes a revoked device's synced plaintext: every file the index says this device wrote from a
 * verified document (whatever it holds now), and the engine's own state. Files the user made
 * here and never sent are not in the index and stay. Call only with a verdict of `revoked`;
 * the caller then deletes the device's keys and the state file.
 */
export const wipeSyncedPlaintext = async (
  fs: FileSystem,
  state: LocalState,
): Promise<WipeReport> => {
  const deleted: string[] = [];
  const editedHere: string[] = [];
  const failed: { path: string; message: string }[] = [];
  const scan = await fs.scan();
  const hashes = new Map(scan.files.map((f) => [f.path, f.hash]));
  for (const entry of state.index()) {
    const hash = hashes.get(entry.path);
    if (hash === undefined) continue;
    try {
      await fs.remove(entry.path);
      deleted.push(entry.path);
      if (hash !== entry.hash) editedHere.push(entry.path);
    } catch (error) {
      failed.push({ path: entry.path, message: (error as Error).message });
    }
  }
  state.clear();
  return { deleted: deleted.sort(), editedHere: editedHere.sort(), failed };
};
