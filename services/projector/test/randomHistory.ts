/**
 * A long, seeded random history of valid events: the domain's scenario decides every command
 * (with its fake signer), so the log holds only what the deciders accept. Commands the domain
 * refuses in the state reached are simply not part of the history.
 */
import {
  confirmedDevices,
  encodeEvent,
  isConfirmed,
  streamOfCommand,
  type DomainCommand,
} from '@ratsfach/domain';
import { Scenario } from '@ratsfach/domain/testing';
import { ANY, type EventStore } from '@ratsfach/event-store';

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryStep {
  readonly stream: string;
  readonly commandId: string;
  readonly events: ReturnType<typeof encodeEvent>[];
}

/** Generates `commands` random commands after the standard setup; returns the appends. */
export function randomHistory(seed: number, commands: number): HistoryStep[] {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const s = new Scenario();
  const steps: HistoryStep[] = [];
  const exec = (command: DomainCommand): boolean => {
    try {
      const events = s.exec(command);
      steps.push({
        stream: streamOfCommand(command),
        commandId: command.metadata.commandId,
        events: events.map(encodeEvent),
      });
      return true;
    } catch {
      return false;
    }
  };
  exec(s.createTenant());
  exec(s.certifyAdminDevice('adm1'));
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const devices: Record<string, string[]> = {};
  for (const user of users) {
    exec(s.createUser(user));
    devices[user] = [`${user.slice(0, 2)}1`];
    exec(s.certifyDevice(user, `${user.slice(0, 2)}1`));
  }
  const committees = ['council'];
  exec(s.createCommittee('council'));
  exec(s.changeMembership('council', 'add', 'alice', 'staff'));
  exec(s.coSignMembership('council', 'alice', 'alice', 'al1'));
  /** alice (staff) confirms `user`'s first devices for `committeeId`; others are refused. */
  const confirmFirst = (committeeId: string, user: string): void => {
    for (const device of devices[user] ?? []) {
      exec(s.confirmDevice(user, device, 'alice', 'al1', committeeId));
    }
  };
  const rotate = (committeeId: string): void => {
    const committee = s.committee(committeeId);
    if (committee.status !== 'active') return;
    const next = committee.epoch === null ? 0 : committee.epoch + 1;
    const self = { userId: 'alice', deviceId: 'al1' };
    const states = Object.fromEntries(users.map((u) => [u, s.user(u)]));
    // Keys go only to devices confirmed for the committee: ask the domain's own rule.
    const confirmed = confirmedDevices(committee, states, self);
    const to = Object.values(committee.members)
      .filter((m) => m.cosigned)
      .flatMap((m) => {
        const user = s.user(m.userId);
        return user.status === 'active'
          ? Object.values(user.devices)
              .filter((d) => !d.revoked)
              .map((d) => ({ userId: m.userId, deviceId: d.deviceId }))
              .filter((d) => isConfirmed(confirmed, d))
          : [];
      });
    exec(s.startKeyEpoch(committeeId, next, to, 'alice', 'al1'));
  };
  rotate('council');
  const documents: { id: string; committee: string }[] = [];
  let dayOffset = 0;
  for (let i = 0; i < commands; i++) {
    const roll = random();
    const doc = documents.length > 0 ? pick(documents) : null;
    if (roll < 0.3 && doc !== null) {
      exec(s.commitVersion(doc.id, 'alice', 'al1'));
    } else if (roll < 0.4) {
      const id = `d${documents.length}`;
      const committee = pick(committees);
      if (exec(s.createDocument(id, committee, 'alice', 'al1'))) documents.push({ id, committee });
    } else if (roll < 0.6 && doc !== null) {
      const user = pick(users);
      dayOffset += random() < 0.05 ? 1 : 0;
      const day = new Date(Date.parse(s.now) + dayOffset * 86_400_000).toISOString();
      exec(
        s.recordDelivery({
          committeeId: doc.committee,
          documentId: doc.id,
          version: 1,
          userId: user,
          deviceId: devices[user]?.[0] ?? 'x',
          deliveredAt: day,
        }),
      );
    } else if (roll < 0.65 && doc !== null) {
      exec(s.moveDocument(doc.id, 'alice', 'al1'));
    } else if (roll < 0.69 && doc !== null) {
      if (!exec(s.deleteDocument(doc.id, 'alice', 'al1'))) {
        if (random() < 0.3) exec(s.eraseDocument(doc.id, 'alice', 'al1'));
        else exec(s.restoreDocument(doc.id, 'alice', 'al1'));
      }
    } else if (roll < 0.77) {
      const committee = pick(committees);
      const user = pick(users.slice(1));
      if (
        exec(
          s.changeMembership(committee, 'add', user, pick(['reader', 'deputy', 'staff'] as const)),
        )
      ) {
        if (random() < 0.8) exec(s.coSignMembership(committee, user, 'alice', 'al1'));
        confirmFirst(committee, user);
        rotate(committee);
      }
    } else if (roll < 0.82) {
      const committee = pick(committees);
      const user = pick(users.slice(1));
      if (exec(s.changeMembership(committee, 'remove', user, 'reader'))) rotate(committee);
    } else if (roll < 0.85) {
      const committee = pick(committees);
      const user = pick(users.slice(1));
      exec(
        s.changeMembership(
          committee,
          'changeRole',
          user,
          pick(['reader', 'deputy', 'staff'] as const),
        ),
      );
      if (random() < 0.5) exec(s.coSignMembership(committee, user, 'alice', 'al1'));
    } else if (roll < 0.9) {
      const user = pick(users.slice(1));
      const device = `${user.slice(0, 2)}${(devices[user]?.length ?? 0) + 1}`;
      if (exec(s.certifyDevice(user, device))) {
        // One of the user's earlier devices confirms it; a first device again, staff do.
        for (const earlier of devices[user] ?? []) {
          if (exec(s.confirmDevice(user, device, user, earlier))) break;
        }
        devices[user]?.push(device);
        committees.forEach((c) => confirmFirst(c, user));
        for (const c of committees)
          exec(
            s.wrapEpochKeys(
              c,
              (s.committee(c) as { epoch: number }).epoch ?? 0,
              [{ userId: user, deviceId: device }],
              'alice',
              'al1',
            ),
          );
      }
    } else if (roll < 0.93) {
      const user = pick(users.slice(1));
      const device = pick(devices[user] ?? []);
      if (device !== undefined && exec(s.revokeDevice(user, device))) committees.forEach(rotate);
    } else if (roll < 0.95) {
      const id = `c${committees.length}`;
      if (exec(s.createCommittee(id))) {
        committees.push(id);
        exec(s.changeMembership(id, 'add', 'alice', 'staff'));
        exec(s.coSignMembership(id, 'alice', 'alice', 'al1'));
        rotate(id);
      }
    } else if (roll < 0.97) {
      exec(s.recordHeartbeat('adm1', {}));
    } else {
      exec(s.setRetention(pick(committees), Math.floor(random() * 90)));
    }
  }
  return steps;
}

/** Appends the history to an event store, in order. */
export async function appendHistory(
  store: EventStore,
  steps: readonly HistoryStep[],
): Promise<void> {
  for (const step of steps) {
    if (step.events.length === 0) continue;
    await store.append(step.stream, step.events, ANY, { commandId: step.commandId });
  }
}
