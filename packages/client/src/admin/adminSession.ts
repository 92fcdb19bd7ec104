import {
  getReadiness,
  getSession,
  listRecords,
  submitRecord,
  type SignedCommand,
  type SubmitRecordReply,
} from '@ratsfach/api-contract';
import {
  type DeviceKeys,
  linkChain,
  openAnyRecord,
  type OpenedRecord,
  type ChainLink,
} from '@ratsfach/crypto';
import {
  base64urlDecode,
  IntegrityError,
  UnavailableError,
  streamName,
  StreamKind,
  hashLength,
} from '@ratsfach/kernel';
import type { Dispatcher } from 'undici';
import { ApiClient, ApiProblemError } from '../http/apiClient.js';
import { logInDevice } from '../http/deviceLogin.js';
import { loadToken, saveToken } from './tokenCache.js';
import { openProfileKeys, type Profile, ProfileKind, readProfile } from '../cli/profile.js';
import { AdminErrorCode } from './adminErrorCode.js';

/** An admin device logged in to its tenant: its profile, its keys and an authorised client. */
export interface AdminSession {
  readonly dir: string;
  readonly profile: Profile;
  readonly keys: DeviceKeys;
  readonly api: ApiClient;
}

/** Opens the admin profile in `dir` with its passphrase and logs in. */
export async function openAdminSession(
  dir: string,
  passphrase: string,
  options: { readonly dispatcher?: Dispatcher; readonly now?: Date } = {},
): Promise<AdminSession> {
  const profile = await readProfile(dir, ProfileKind.admin);
  const keys = await openProfileKeys(dir, passphrase);
  const base = new ApiClient({
    baseUrl: profile.serverUrl,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const audience = `${profile.serverUrl}\n${profile.tenantId}\n${profile.deviceId}`;
  const now = options.now ?? new Date();
  const cached = await loadToken(dir, keys.signing, audience, now);
  let api: ApiClient | null = cached === null ? null : base.withToken(cached);
  if (api !== null) {
    // A kept token may have ended early (the device revoked, the service restarted).
    try {
      await api.call(getSession, { params: { tenantId: profile.tenantId } });
    } catch (error) {
      if (!(error instanceof ApiProblemError) || error.status !== 401) throw error;
      api = null;
    }
  }
  if (api === null) {
    const login = await logInDevice(base, {
      tenantId: profile.tenantId,
      deviceId: profile.deviceId,
      signing: keys.signing,
    });
    await saveToken(
      dir,
      keys.signing,
      audience,
      login.api.token as string,
      login.session.expiresAt,
    );
    api = login.api;
  }
  return { dir, profile, keys, api };
}

/** A chain as read from the service: its records, signature-checked and linked from 0. */
export interface VerifiedChain {
  readonly stream: string;
  readonly records: readonly OpenedRecord[];
}

/**
 * Reads a whole chain, page by page, and checks every signature and link itself: the service's
 * other fields are never trusted. A stream the service does not know is an empty chain.
 */
export async function readChain(
  api: ApiClient,
  tenantId: string,
  stream: string,
): Promise<VerifiedChain> {
  const records: OpenedRecord[] = [];
  let from: number | null = 0;
  while (from !== null) {
    let page;
    try {
      page = await api.call(listRecords, {
        params: { tenantId },
        query: { stream, from: String(from) },
      });
    } catch (error) {
      if (error instanceof ApiProblemError && error.status === 404 && records.length === 0) {
        return { stream, records: [] };
      }
      throw error;
    }
    for (const stored of page.records) records.push(openAnyRecord(base64urlDecode(stored.record)));
    from = page.next;
  }
  linkChain(records, stream);
  return { stream, records };
}

/** Where the next record of a chain goes. */
export function nextLinkOf(chain: VerifiedChain): ChainLink {
  const last = chain.records[chain.records.length - 1];
  return last === undefined
    ? { sequence: 0, previousHash: new Uint8Array(hashLength) }
    : { sequence: chain.records.length, previousHash: last.hash };
}

/** The stream names of a tenant's chains. */
export const streams = {
  tenant: (tenantId: string) => streamName(StreamKind.tenant, tenantId),
  user: (tenantId: string, userId: string) => streamName(StreamKind.user, tenantId, userId),
  committee: (tenantId: string, committeeId: string) =>
    streamName(StreamKind.committee, tenantId, committeeId),
};

/**
 * The tenant chain, checked against the root this profile pinned: a genesis signed by any other
 * key is a server showing another tenant's or its own root, and is refused.
 */
export async function readTenantChain(session: AdminSession): Promise<VerifiedChain> {
  const chain = await readChain(
    session.api,
    session.profile.tenantId,
    streams.tenant(session.profile.tenantId),
  );
  const genesis = chain.records[0];
  if (
    genesis === undefined ||
    genesis.purpose !== 'tenant-created' ||
    genesis.signerFingerprint !== session.profile.rootFingerprint
  ) {
    throw new IntegrityError(
      AdminErrorCode.rootMismatch,
      'the tenant chain the server shows does not start with the root this device pinned',
      {
        hint: 'Do not act on this server; compare the root fingerprint (`ratsfach admin root fingerprint`) and tell the operator.',
      },
    );
  }
  return chain;
}

/**
 * The longest a command waits for the service's projector (normally milliseconds): generous,
 * because a loaded machine (CI, two cores) can stall the projector's thread for seconds.
 */
export const projectionWaitMs = 60_000;

/** Submits one signed record through the signed-command route, and waits until it is projected. */
export async function submit(
  session: AdminSession,
  command: SignedCommand,
): Promise<SubmitRecordReply> {
  const reply = await session.api.call(submitRecord, {
    params: { tenantId: session.profile.tenantId },
    body: command,
  });
  await awaitProjection(session.api, projectionWaitMs);
  return reply;
}

/** Unix seconds of a date. */
export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * The service learns a new device's standing through its projector, a moment after the append:
 * a command ends only once the read models caught up (`/readyz` reports no pending event), so
 * the next command sees what this one wrote. Logins are rate-limited; readiness is not.
 */
export async function awaitProjection(api: ApiClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      const reply = await api.call(getReadiness);
      if (reply.projection === null || reply.projection.pending === 0) return;
    } catch (error) {
      // 503 while lagging carries the same report; anything else is a real failure.
      if (!(error instanceof ApiProblemError) || error.status !== 503) throw error;
    }
    if (Date.now() + delay > deadline) {
      throw new UnavailableError(
        AdminErrorCode.unknown,
        'the service has not caught up with its log',
        {
          hint: 'The tenant exists; wait a moment, then run the next command (see /readyz).',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
