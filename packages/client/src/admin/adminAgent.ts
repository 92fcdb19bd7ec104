import { defaultStalenessSeconds } from '@ratsfach/crypto';
import { readTenantChains, renewDevice, signHeartbeat } from './adminActions.js';
import { type AdminSession, unixSeconds } from './adminSession.js';
import { adminDevicesOf, userDevicesOf } from './chainViews.js';

/** The logger the agent reports to (a pino child in the command; a recorder in tests). */
export interface AgentLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** When the agent acts. */
export interface AgentPolicy {
  /** Renew a device certificate this long before it lapses (default 10 days of its 30). */
  readonly renewBeforeSeconds: number;
  /** Sign a heartbeat when the newest is this old (default a quarter of the staleness bound). */
  readonly heartbeatEverySeconds: number;
  /** Warn when this device's own admin certificate lapses within this (default 30 days). */
  readonly adminWarnSeconds: number;
}

export const defaultAgentPolicy: AgentPolicy = {
  renewBeforeSeconds: 10 * 24 * 3600,
  heartbeatEverySeconds: Math.floor(defaultStalenessSeconds / 4),
  adminWarnSeconds: 30 * 24 * 3600,
};

/** One thing the agent did or noticed. */
export interface AgentAction {
  readonly action: 'renewed' | 'heartbeat' | 'lapsed' | 'adminCertificateDue';
  readonly userId?: string;
  readonly deviceId?: string;
  readonly notAfter?: number;
}

/**
 * One round of the agent's recurring work: renews every device in good standing (certified,
 * not revoked, not yet lapsed) whose certificate lapses within the renewal window, and signs a
 * heartbeat when the newest one in the tenant chain is older than the heartbeat interval. A
 * revoked device is never renewed; a lapsed one is reported, not revived (it must enrol again).
 */
export async function agentRound(
  session: AdminSession,
  now: Date,
  log: AgentLog,
  policy: AgentPolicy = defaultAgentPolicy,
): Promise<AgentAction[]> {
  const actions: AgentAction[] = [];
  const { deviceId } = session.profile;
  const time = unixSeconds(now);
  const { tenant, users } = await readTenantChains(session);
  for (const [userId, chain] of users) {
    for (const device of userDevicesOf(chain.records).values()) {
      if (device.revoked) continue;
      if (device.notAfter <= time) {
        const action = {
          action: 'lapsed',
          userId,
          deviceId: device.deviceId,
          notAfter: device.notAfter,
        } as const;
        log.warn(
          action,
          `certificate of ${userId}/${device.deviceId} has lapsed; the device must enrol again`,
        );
        actions.push(action);
        continue;
      }
      if (device.notAfter - time > policy.renewBeforeSeconds) continue;
      const renewed = await renewDevice(session, userId, device.deviceId, now);
      const action = {
        action: 'renewed',
        userId,
        deviceId: device.deviceId,
        notAfter: renewed.notAfter,
      } as const;
      log.info(
        action,
        `renewed ${userId}/${device.deviceId} until ${new Date(renewed.notAfter * 1000).toISOString()}`,
      );
      actions.push(action);
    }
  }
  let newest: number | undefined;
  for (const record of tenant.records) {
    if (record.purpose === 'heartbeat') newest = (record.body as { time: number }).time;
  }
  // Renewals change user heads: the heartbeat after them names the new heads.
  if (
    newest === undefined ||
    time - newest >= policy.heartbeatEverySeconds ||
    actions.some((a) => a.action === 'renewed')
  ) {
    const beat = await signHeartbeat(session, now);
    const action = { action: 'heartbeat' } as const;
    log.info(
      { ...action, users: beat.users, committees: beat.committees },
      `heartbeat over ${beat.users} users and ${beat.committees} committees`,
    );
    actions.push(action);
  }
  const own = adminDevicesOf(tenant.records).get(deviceId);
  if (own !== undefined && own.notAfter - time <= policy.adminWarnSeconds) {
    const action = { action: 'adminCertificateDue', deviceId, notAfter: own.notAfter } as const;
    log.warn(
      action,
      `this admin device's certificate lapses at ${new Date(own.notAfter * 1000).toISOString()}; renew it with the root key file`,
    );
    actions.push(action);
  }
  return actions;
}

/**
 * Runs rounds until `signal` aborts, sleeping `everySeconds` between them (`sleep` is the
 * clock's, so a test drives it). A round that fails is logged and retried next time: the agent
 * must keep going through a restart of the service.
 */
export async function runAgent(options: {
  readonly session: () => Promise<AdminSession>;
  readonly now: () => Date;
  readonly sleep: (seconds: number, signal: AbortSignal) => Promise<void>;
  readonly log: AgentLog;
  readonly signal: AbortSignal;
  readonly everySeconds: number;
  readonly policy?: AgentPolicy;
}): Promise<number> {
  let rounds = 0;
  while (!options.signal.aborted) {
    try {
      await agentRound(await options.session(), options.now(), options.log, options.policy);
    } catch (error) {
      const err = error as { code?: string; message?: string };
      options.log.warn(
        { action: 'failed', code: err.code },
        `round failed: ${err.message ?? String(error)}`,
      );
    }
    rounds += 1;
    if (options.signal.aborted) break;
    await options.sleep(options.everySeconds, options.signal);
  }
  return rounds;
}
