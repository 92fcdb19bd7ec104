import type { Command } from 'commander';
import { submitRecord } from '@ratsfach/api-contract';
import {
  fingerprint,
  signDeviceConfirmation,
  type CertifiedDevice,
  type TrustView,
} from '@ratsfach/crypto';
import {
  ConflictError,
  NotFoundError,
  streamName,
  StreamKind,
  ValidationError,
} from '@ratsfach/kernel';
import { awaitProjection, projectionWaitMs } from '../../admin/adminSession.js';
import { formatFingerprint } from '../../admin/rootKeyFile.js';
import { foldCommittees } from '../../keys/committeeViews.js';
import { knownCommittees } from '../../keys/knownCommittees.js';
import { KeysErrorCode } from '../../keys/keysErrorCode.js';
import { toCommandJson } from '../../records/toCommandJson.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { openKeyWork, type KeyWork } from './keys.js';

/** Stable codes of the errors `ratsfach devices` raises itself. */
export const DevicesErrorCode = {
  /** No device with that id is certified for this person. */
  unknownDevice: 'RATSFACH_DEVICES_UNKNOWN_DEVICE',
  /** The device cannot be confirmed from here (it is this device, or revoked). */
  cannotConfirm: 'RATSFACH_DEVICES_CANNOT_CONFIRM',
} as const;

/**
 * The trust view with this person's chain and the chains of everyone in their committees: a
 * first device's confirmation is signed by a staff member of another person, whose chain the
 * view needs to judge it.
 */
const personView = async (work: KeyWork): Promise<TrustView> => {
  const { api, state, device } = work;
  const known = await knownCommittees(api, state, device.tenantId, device.userId);
  const { trust } = await foldCommittees(work.chains, device, [...known.keys()], state);
  // A server that rolls a chain back (to hide a device certified since) is refused.
  const seen = state.seenHeads();
  seen.accept(streamName(StreamKind.tenant, device.tenantId), trust.tenantHashes);
  for (const [userId, hashes] of trust.userHashes) {
    seen.accept(streamName(StreamKind.user, device.tenantId, userId), hashes);
  }
  state.saveSeenHeads(seen);
  return trust;
};

/** One device of the person, as their own verified user chain shows it. */
export interface DeviceEntry {
  readonly deviceId: string;
  readonly fingerprint: string;
  readonly thisDevice: boolean;
  readonly revoked: boolean;
  /** Certificate validity, ISO 8601. */
  readonly validUntil: string;
  /** Who vouched for it: one of the person's devices, or a committee's staff for a first one. */
  readonly confirmedBy: readonly {
    readonly userId: string;
    readonly deviceId: string;
    readonly committeeId: string | null;
  }[];
  /** Certified, not revoked, not this device and nobody confirmed it: the person should look. */
  readonly waiting: boolean;
}

const entriesOf = (trust: TrustView, userId: string, self: string): DeviceEntry[] =>
  trust.devicesOf(userId).map((d) => {
    const confirmedBy = trust.confirmations
      .filter((c) => c.userId === userId && c.fingerprint === d.fingerprint)
      .map((c) => ({
        userId: c.signerUserId,
        deviceId: trust.device(c.signerFingerprint)?.deviceId ?? c.signerFingerprint.slice(0, 16),
        committeeId: c.committeeId,
      }));
    const revoked = d.revokedAt !== undefined;
    return {
      deviceId: d.deviceId,
      fingerprint: d.fingerprint,
      thisDevice: d.fingerprint === self,
      revoked,
      validUntil: new Date(d.notAfter * 1000).toISOString(),
      confirmedBy,
      waiting: !revoked && d.fingerprint !== self && confirmedBy.length === 0,
    };
  });

const line = (d: DeviceEntry): string =>
  `${d.deviceId.padEnd(12)} ${formatFingerprint(d.fingerprint.slice(0, 16))}  ${
    d.thisDevice
      ? 'this device'
      : d.revoked
        ? 'revoked'
        : d.confirmedBy.length > 0
          ? `confirmed by ${d.confirmedBy
              .map(
                (c) =>
                  `${c.userId}/${c.deviceId}${c.committeeId === null ? '' : ` (staff of ${c.committeeId})`}`,
              )
              .join(', ')}`
          : 'NEW: not confirmed by you yet'
  }`;

/** Hex digits of a typed fingerprint: case, spaces, dashes and colons ignored. */
const typedHex = (text: string): string => text.toLowerCase().replace(/[\s:-]/g, '');

/**
 * `ratsfach devices`: every device certified for this person, from their own user chain folded
 * from the pinned root on this device (an administrator cannot hide or add one unseen), with who
 * confirmed each. `ratsfach devices confirm <device>` signs a device-confirmation for a new one
 * after its fingerprint was compared. Exit 3 while a new device waits for the person.
 */
export const registerDevices = (program: Command, context: CliContext): void => {
  const devices = program
    .command('devices')
    .description('show the devices certified for your account; confirm a new one')
    .action(
      commandAction(context, async (run) => {
        const work = await openKeyWork(run);
        try {
          const { device } = work;
          const trust = await personView(work);
          const self = fingerprint(device.keys.signing.publicKey);
          const list = entriesOf(trust, device.userId, self);
          const waiting = list.filter((d) => d.waiting);
          run.output.result({ userId: device.userId, devices: list }, [
            `devices of ${device.userId} (verified from your user chain):`,
            ...list.map((d) => `  ${line(d)}`),
            ...(waiting.length === 0
              ? []
              : [
                  `${waiting.length} new device(s) wait for you: if one is yours, compare the fingerprint it shows (ratsfach status on it) and run ratsfach devices confirm <device> --fingerprint <hex>; if not, tell your administration at once.`,
                ]),
          ]);
          return waiting.length > 0 ? ExitCode.needsUser : ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );

  devices
    .command('confirm')
    .description('confirm a new device of yours after comparing its fingerprint (a signed record)')
    .argument('<device>', 'the device id (ratsfach devices lists it)')
    .option('--fingerprint <hex>', 'the fingerprint the new device shows (ratsfach status on it)')
    .option('--yes', 'confirm without comparing (only if you saw the device enrol yourself)')
    .action(
      commandAction(context, async (run) => {
        const [deviceId] = run.command.args as [string];
        const options = run.command.opts<{ fingerprint?: string; yes?: boolean }>();
        const typed = options.fingerprint === undefined ? undefined : typedHex(options.fingerprint);
        if (typed !== undefined && !/^[0-9a-f]{16,64}$/.test(typed)) {
          run.output.error(
            new ValidationError(CliErrorCode.usage, 'the fingerprint must be 16 to 64 hex digits', {
              hint: 'Copy it from `ratsfach status` on the new device (groups of four; spaces are ignored).',
            }),
          );
          return ExitCode.usage;
        }
        const work = await openKeyWork(run);
        try {
          const { device } = work;
          const trust = await personView(work);
          const self = fingerprint(device.keys.signing.publicKey);
          const target: CertifiedDevice | undefined = trust
            .devicesOf(device.userId)
            .find((d) => d.deviceId === deviceId);
          if (target === undefined) {
            throw new NotFoundError(
              DevicesErrorCode.unknownDevice,
              `no device ${deviceId} is certified for ${device.userId}`,
              { hint: 'ratsfach devices lists the devices of your account; check the id.' },
            );
          }
          const entry = entriesOf(trust, device.userId, self).find(
            (d) => d.fingerprint === target.fingerprint,
          ) as DeviceEntry;
          if (entry.thisDevice || entry.revoked) {
            throw new ConflictError(
              DevicesErrorCode.cannotConfirm,
              entry.thisDevice
                ? `${deviceId} is this device: a device never confirms itself`
                : `${deviceId} is revoked`,
              { hint: 'Confirm a new device from another device of yours that is already in use.' },
            );
          }
          if (!entry.waiting) {
            run.output.result({ deviceId, confirmed: true, already: true }, [
              `${deviceId} is confirmed already (${line(entry)})`,
            ]);
            return ExitCode.ok;
          }
          let shown = typed;
          if (shown === undefined && options.yes !== true) {
            if (context.ask === undefined) {
              run.output.result({ deviceId, confirmed: false, fingerprint: target.fingerprint }, [
                `${deviceId} waits: compare the fingerprint it shows (ratsfach status on it), then run ratsfach devices confirm ${deviceId} --fingerprint <hex>`,
              ]);
              return ExitCode.needsUser;
            }
            shown = typedHex(
              await context.ask(
                `Confirm ${deviceId}: type the fingerprint it shows (ratsfach status there), or nothing to stop: `,
              ),
            );
            if (shown === '') return ExitCode.needsUser;
          }
          if (
            shown !== undefined &&
            !(/^[0-9a-f]{16,64}$/.test(shown) && target.fingerprint.startsWith(shown))
          ) {
            throw new ValidationError(
              KeysErrorCode.fingerprintMismatch,
              `the fingerprint typed does not match device ${deviceId}; it was NOT confirmed`,
              {
                hint: 'Do not confirm a device you cannot see. If the device is not yours, tell your administration at once.',
              },
            );
          }
          const hashes = trust.userHashes.get(device.userId) ?? [];
          const record = signDeviceConfirmation({
            trust,
            device: target,
            link: {
              sequence: hashes.length,
              previousHash: hashes[hashes.length - 1] as Uint8Array,
            },
            self: device.keys.signing,
          });
          await work.api.call(submitRecord, {
            params: { tenantId: device.tenantId },
            body: toCommandJson('ConfirmDevice', {
              tenantId: device.tenantId,
              userId: device.userId,
              deviceId: target.deviceId,
              signerUserId: device.userId,
              signerDeviceId: device.deviceId,
              committeeId: null,
              record,
            }),
          });
          await awaitProjection(work.api, projectionWaitMs);
          // What the chain says now: the confirmation is in it, verified like any record.
          const now = entriesOf(await personView(work), device.userId, self).find(
            (d) => d.fingerprint === target.fingerprint,
          ) as DeviceEntry;
          run.output.result({ deviceId, confirmed: now.confirmedBy.length > 0, device: now }, [
            `confirmed ${deviceId} (${formatFingerprint(target.fingerprint.slice(0, 16))}); your committees' staff devices now pass it the keys`,
          ]);
          return now.confirmedBy.length > 0 ? ExitCode.ok : ExitCode.error;
        } finally {
          work.state.close();
        }
      }),
    );
};
