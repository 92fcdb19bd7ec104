import {
  getReadiness,
  getSession,
  listRecords,
  submitRecord,
  type ProjectionReport,
  type ReadinessReply,
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
import { dropLegacyRegistry } from './dropLegacyRegistry.js';

/** An admin device logged in to its tenant: its profile, its keys and an authorised client. */
export interface AdminSession {
  readonly dir: string;
  readonly profile: Profile;
  readonly keys: DeviceKeys;
  readonly api: ApiClient;
  /** Records this session submitted that it has not yet seen the service's projector apply. */
  readonly writes: { unprojected: number };
}

/** Opens the admin profile in `dir` with its passphrase and logs in. */
export async function openAdminSession(
  dir: string,
  passphrase: string,
  options: { readonly dispatcher?: Dispatcher; readonly now?: Date } = {},
): Promise<AdminSession> {
  const profile = await readProfile(dir, ProfileKind.admin);
  const keys = await openProfileKeys(dir, passphrase);
  // Profiles from before the tenant-chains listing kept a registry the listing now derives.
  await dropLegacyRegistry(dir);
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
  return { dir, profile, keys, api, writes: { unprojected: 0 } };
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

/**
 * Submits one signed record through the signed-command route. It does not wait for the
 * projector: chains are read from the log itself (read-your-writes), so the next step of the
 * same command sees the record at once; `settle` waits once, at the end of a command.
 */
export async function submit(
  session: AdminSession,
  command: SignedCommand,
): Promise<SubmitRecordReply> {
  const reply = await session.api.call(submitRecord, {
    params: { tenantId: session.profile.tenantId },
    body: command,
  });
  session.writes.unprojected += 1;
  return reply;
}

/**
 * Ends a command that wrote: waits until the service's read models caught up, so what the
 * command printed holds (a certified device can log in, a revoked one is refused, a new member
 * reads the committee). Does nothing when the session wrote nothing.
 */
export async function settle(session: AdminSession, waitMs = projectionWaitMs): Promise<void> {
  if (session.writes.unprojected === 0) return;
  await awaitProjection(session.api, waitMs);
  session.writes.unprojected = 0;
}

/** Unix seconds of a date. */
export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** The readiness report a 503 carries (its body is a readiness reply, not a problem). */
function readinessOf(error: ApiProblemError): ReadinessReply | null {
  try {
    const reply = JSON.parse(error.problem.detail) as Partial<ReadinessReply>;
    return typeof reply.status === 'string' ? (reply as ReadinessReply) : null;
  } catch {
    return null;
  }
}

/** A projector restarted this often during one wait, with its checkpoint unmoved, is failing. */
const failingRestarts = 3;

const projectionFailing = (why: string, code?: string): UnavailableError =>
  new UnavailableError(
    AdminErrorCode.projectionFailing,
    `the change was accepted, but the service cannot apply it to its read models: ${why}`,
    {
      hint: 'The record is in the log and is not lost. Ask the operator to look at the service (GET /readyz and its log); run the next command once /readyz says ready.',
      ...(code === undefined ? {} : { details: { code } }),
    },
  );

/**
 * The service learns a new device's standing through its projector, a moment after the append:
 * waits until `/readyz` reports no pending event. A projector the service reports as failing,
 * or one that keeps restarting without moving its checkpoint, ends the wait at once with
 * `RATSFACH_ADMIN_PROJECTION_FAILING`; a projector still behind at the deadline is
 * `RATSFACH_ADMIN_PROJECTION_LAGGING`. Logins are rate-limited; readiness is not.
 */
export async function awaitProjection(api: ApiClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let first: ProjectionReport | null = null;
  let last: ProjectionReport | null = null;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    let reply: ReadinessReply | null;
    try {
      reply = await api.call(getReadiness);
    } catch (error) {
      // 503 while lagging or failing carries the same report; anything else is a real failure.
      if (!(error instanceof ApiProblemError) || error.status !== 503) throw error;
      reply = readinessOf(error);
    }
    if (reply?.status === 'failing') {
      throw projectionFailing(`it reports ${reply.code ?? 'a failure'}`, reply.code);
    }
    const projection = reply === null ? null : reply.projection;
    if (reply !== null && (projection === null || projection.pending === 0)) return;
    if (projection !== null) {
      first ??= projection;
      last = projection;
      if (
        projection.restarts - first.restarts >= failingRestarts &&
        projection.checkpoint === first.checkpoint
      ) {
        throw projectionFailing(
          `its projector restarted ${projection.restarts - first.restarts} times without progress`,
        );
      }
    }
    if (Date.now() + delay > deadline) {
      throw new UnavailableError(
        AdminErrorCode.projectionLagging,
        `the change was accepted, but the service has not caught up with its log after ${Math.round(waitMs / 1000)} s${last === null ? '' : ` (${last.pending}${last.atLeast ? '+' : ''} events pending)`}`,
        {
          hint: 'The record is in the log and is not lost; wait a moment, then run the next command. If this repeats, ask the operator to look at the service (GET /readyz).',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
