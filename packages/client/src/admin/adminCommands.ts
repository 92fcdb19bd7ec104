import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { cryptoReady, fingerprint, generateDeviceKeys } from '@ratsfach/crypto';
import {
  base64urlDecode,
  base64urlEncode,
  ValidationError,
  type MemberRole,
} from '@ratsfach/domain';
import type { CliContext } from '../cli/cliContext.js';
import { CliErrorCode } from '../cli/cliErrorCode.js';
import { commandAction, type CommandRun } from '../cli/commandAction.js';
import { ExitCode } from '../cli/output.js';
import { choosePassphrase, readPassphrase, type PassphraseSources } from '../cli/passphrase.js';
import { createProfile, openProfileKeys, ProfileKind, readProfile } from '../cli/profile.js';
import {
  addPerson,
  approveEnrolments,
  certifyAdminDevice,
  changeMember,
  committeeMembers,
  createCommittee,
  erasePerson,
  invitePerson,
  listAdminDevices,
  listCommittees,
  listPeople,
  renewDevice,
  revokeAdminDevice,
  revokeDevice,
  signHeartbeat,
  type AdminDeviceRequest,
} from './adminActions.js';
import { agentRound, runAgent, type AgentLog } from './adminAgent.js';
import { AdminErrorCode } from './adminErrorCode.js';
import { type AdminSession, openAdminSession } from './adminSession.js';
import type { DeviceView, MemberView } from './chainViews.js';
import { initTenant } from './initTenant.js';
import { invitationLines } from './invitation.js';
import { formatFingerprint, openRootKeyFile, readRootKeyInfo } from './rootKeyFile.js';

/** Where the root key file's passphrase comes from: its own file option, env var, or a prompt. */
export function rootPassphraseSources(run: CommandRun): PassphraseSources {
  const options = run.command.optsWithGlobals<{ rootPassphraseFile?: string }>();
  return {
    file: options.rootPassphraseFile,
    envValue: run.context.env.RATSFACH_ROOT_PASSPHRASE,
    envName: 'RATSFACH_ROOT_PASSPHRASE',
    fileOption: '--root-passphrase-file',
    ask: run.context.ask,
  };
}

const rootOptions = (command: Command): Command =>
  command
    .requiredOption('--root <file>', 'the root key file (keep it offline)')
    .option(
      '--root-passphrase-file <file>',
      'file holding the root passphrase (else $RATSFACH_ROOT_PASSPHRASE, else a prompt)',
    );

/** The service and tenant a new admin profile is made for (`init`, `devices request`). */
const serviceOptions = (command: Command): Command =>
  command
    .requiredOption('--server <url>', 'where the service listens')
    .requiredOption('--tenant <id>', 'the tenant id');

/** The service address as profiles keep it: without a trailing slash. */
const serverUrlOf = (server: string): string => server.replace(/\/+$/, '');

const roleOption = () =>
  new Option('--role <role>', "the member's role").choices(['staff', 'reader', 'deputy']);

/** Opens the admin profile (device passphrase) and logs in. */
async function session(run: CommandRun): Promise<AdminSession> {
  await cryptoReady();
  return openAdminSession(
    run.profileDir,
    await readPassphrase(run.devicePassphrase, 'device passphrase'),
  );
}

async function openRoot(run: CommandRun, path: string) {
  await readRootKeyInfo(path);
  return openRootKeyFile(path, await readPassphrase(rootPassphraseSources(run), 'root passphrase'));
}

const isoOf = (seconds: number): string => new Date(seconds * 1000).toISOString();

const deviceJson = (device: DeviceView) => ({
  userId: device.userId,
  deviceId: device.deviceId,
  fingerprint: device.fingerprint,
  notBefore: isoOf(device.notBefore),
  notAfter: isoOf(device.notAfter),
  revoked: device.revoked,
});

const deviceState = (device: DeviceView, now: Date): string =>
  device.revoked
    ? 'revoked'
    : device.notAfter * 1000 <= now.getTime()
      ? `lapsed ${isoOf(device.notAfter)}`
      : `certified until ${isoOf(device.notAfter)}`;

const memberJson = (member: MemberView) => ({
  userId: member.userId,
  role: member.role,
  cosigned: member.cosigned,
});

const memberLines = (committeeId: string, members: readonly MemberView[]): string[] => [
  `committee ${committeeId}:`,
  ...members.map(
    (m) =>
      `  ${m.userId}  ${m.role}${m.cosigned ? '' : '  (takes effect once a staff device confirms it: ratsfach confirm)'}`,
  ),
];

function registerRootCommands(admin: Command, context: CliContext): void {
  const root = admin.command('root').description("the tenant's offline trust root");
  rootOptions(
    root.command('fingerprint').description("print the root's fingerprint (no passphrase needed)"),
  ).action(
    commandAction(context, async (run) => {
      await cryptoReady();
      const info = await readRootKeyInfo(run.command.opts<{ root: string }>().root);
      run.output.result(
        { tenantId: info.tenantId, fingerprint: info.fingerprint, createdAt: info.createdAt },
        [
          `tenant ${info.tenantId}`,
          `root fingerprint ${formatFingerprint(info.fingerprint)}`,
          `created ${info.createdAt}`,
        ],
      );
    }),
  );
  rootOptions(
    root.command('check').description('open the root key file with its passphrase, change nothing'),
  ).action(
    commandAction(context, async (run) => {
      await cryptoReady();
      const opened = await openRoot(run, run.command.opts<{ root: string }>().root);
      run.output.result(
        { tenantId: opened.tenantId, fingerprint: opened.fingerprint, opened: true },
        [
          `the root key file opens: tenant ${opened.tenantId}`,
          `root fingerprint ${formatFingerprint(opened.fingerprint)}`,
          'Put it back offline.',
        ],
      );
    }),
  );
}

function registerInit(admin: Command, context: CliContext): void {
  serviceOptions(
    admin
      .command('init')
      .description(
        "create the tenant's root, bootstrap the tenant, make this device its first admin device",
      ),
  )
    .requiredOption('--root <file>', 'where to write the root key file (it must not exist)')
    .option(
      '--root-passphrase-file <file>',
      'file holding the new root passphrase (else $RATSFACH_ROOT_PASSPHRASE, else a prompt)',
    )
    .option('--user <id>', "the administrator's user id", 'admin')
    .option('--device <id>', "this device's id", 'admin_1')
    .option(
      '--bootstrap-token-file <file>',
      "file holding the operator's bootstrap token (else $RATSFACH_BOOTSTRAP_TOKEN)",
    )
    .action(
      commandAction(context, async (run) => {
        await cryptoReady();
        const o = run.command.opts<{
          server: string;
          tenant: string;
          root: string;
          user: string;
          device: string;
          bootstrapTokenFile?: string;
        }>();
        const rootPassphrase = await choosePassphrase(
          rootPassphraseSources(run),
          'root passphrase',
        );
        const devicePassphrase = await choosePassphrase(run.devicePassphrase, 'device passphrase');
        const bootstrapToken =
          o.bootstrapTokenFile !== undefined
            ? (await readFile(o.bootstrapTokenFile, 'utf8')).trim()
            : run.context.env.RATSFACH_BOOTSTRAP_TOKEN;
        const result = await initTenant({
          serverUrl: serverUrlOf(o.server),
          tenantId: o.tenant,
          rootFile: o.root,
          rootPassphrase,
          profileDir: run.profileDir,
          devicePassphrase,
          userId: o.user,
          deviceId: o.device,
          bootstrapToken,
          now: run.context.now(),
        });
        run.output.result(result, [
          `tenant ${result.tenantId} created on ${o.server}`,
          `root fingerprint ${formatFingerprint(result.rootFingerprint)}`,
          `this device is admin device ${result.adminDeviceId} of ${result.adminUserId} (profile ${result.profileDir})`,
          '',
          `Keep the root key file ${result.rootFile} OFFLINE (a USB stick in a safe), with a backup copy.`,
          'It is needed only to certify or revoke admin devices. Write the fingerprint down: every',
          'enrolment code carries it, and every device compares it.',
        ]);
      }),
    );
}

function registerPeople(admin: Command, context: CliContext): void {
  const people = admin
    .command('people')
    .description('people of the tenant: directory entries and user chains');
  people
    .command('add <person>')
    .description('add a person (their user chain) and set their directory entry')
    .requiredOption('--name <name>', 'display name')
    .option('--email <address>', 'e-mail address')
    .action(
      commandAction(context, async (run) => {
        const [userId] = run.command.args as [string];
        const o = run.command.opts<{ name: string; email?: string }>();
        const { entry, created } = await addPerson(
          await session(run),
          { userId, displayName: o.name, email: o.email ?? null },
          run.context.now(),
        );
        run.output.result({ ...entry, created }, [
          `${created ? 'added' : 'updated'} ${entry.userId}: ${entry.displayName}${entry.email ? ` <${entry.email}>` : ''}`,
        ]);
      }),
    );
  people
    .command('list')
    .description('every person with their devices')
    .action(
      commandAction(context, async (run) => {
        const now = run.context.now();
        const list = await listPeople(await session(run));
        run.output.result(
          { people: list.map((p) => ({ ...p, devices: p.devices.map(deviceJson) })) },
          list.flatMap((p) => [
            `${p.userId}  ${p.displayName ?? '(no directory entry)'}${p.email ? ` <${p.email}>` : ''}`,
            ...p.devices.map(
              (d) =>
                `  device ${d.deviceId}  ${deviceState(d, now)}  ${d.fingerprint.slice(0, 16)}`,
            ),
          ]),
        );
      }),
    );
  people
    .command('erase <person>')
    .description("erase a person's name and e-mail from the directory (the log keeps the id only)")
    .action(
      commandAction(context, async (run) => {
        const [userId] = run.command.args as [string];
        await erasePerson(await session(run), userId);
        run.output.result({ userId, erased: true }, [`erased the directory entry of ${userId}`]);
      }),
    );
}

function registerCommittees(admin: Command, context: CliContext): void {
  const committees = admin.command('committees').description('committees and their members');
  committees
    .command('create <committee>')
    .description('create a committee with its founding staff')
    .requiredOption('--staff <person...>', 'founding staff members')
    .action(
      commandAction(context, async (run) => {
        const [committeeId] = run.command.args as [string];
        const members = await createCommittee(
          await session(run),
          committeeId,
          run.command.opts<{ staff: string[] }>().staff,
          run.context.now(),
        );
        run.output.result(
          { committeeId, members: members.map(memberJson) },
          memberLines(committeeId, members),
        );
      }),
    );
  committees
    .command('list')
    .description('every committee of the tenant with its members')
    .action(
      commandAction(context, async (run) => {
        const list = await listCommittees(await session(run));
        run.output.result(
          {
            committees: list.map((c) => ({
              committeeId: c.committeeId,
              members: c.members.map(memberJson),
            })),
          },
          list.length === 0
            ? ['no committees yet: ratsfach admin committees create <committee> --staff <person>']
            : list.flatMap((c) => memberLines(c.committeeId, c.members)),
        );
      }),
    );
  committees
    .command('show <committee>')
    .description('the members of a committee')
    .action(
      commandAction(context, async (run) => {
        const [committeeId] = run.command.args as [string];
        const members = await committeeMembers(await session(run), committeeId);
        run.output.result(
          { committeeId, members: members.map(memberJson) },
          memberLines(committeeId, members),
        );
      }),
    );
  const change = (name: string, description: string, kind: 'add' | 'changeRole' | 'remove') => {
    const command = committees.command(`${name} <committee> <person>`).description(description);
    if (kind !== 'remove') command.addOption(roleOption().makeOptionMandatory());
    command.action(
      commandAction(context, async (run) => {
        const [committeeId, userId] = run.command.args as [string, string];
        const role = run.command.opts<{ role?: MemberRole }>().role;
        const members = await changeMember(
          await session(run),
          committeeId,
          userId,
          kind,
          role,
          run.context.now(),
        );
        run.output.result(
          { committeeId, members: members.map(memberJson) },
          memberLines(committeeId, members),
        );
      }),
    );
  };
  change('add', 'add a member with a role (keys once a staff device confirms it)', 'add');
  change('role', "change a member's role", 'changeRole');
  change('remove', 'remove a member (the next epoch excludes them)', 'remove');
}

function registerEnrolment(admin: Command, context: CliContext): void {
  admin
    .command('invite <person>')
    .description('make a one-time enrolment code (text and QR code) for a person')
    .option('--valid-days <days>', 'days until the code expires (at most 30)', '7')
    .action(
      commandAction(context, async (run) => {
        const [userId] = run.command.args as [string];
        const days = Number(run.command.opts<{ validDays: string }>().validDays);
        if (!Number.isFinite(days) || days <= 0) {
          throw new ValidationError(CliErrorCode.usage, '--valid-days must be a positive number', {
            hint: 'Pass e.g. --valid-days 7.',
          });
        }
        const invitation = await invitePerson(
          await session(run),
          userId,
          run.context.now(),
          Math.round(days * 86400),
        );
        run.output.result(
          {
            tenantId: invitation.tenantId,
            userId,
            serverUrl: invitation.serverUrl,
            code: invitation.code.text,
            codeId: invitation.codeId,
            expiresAt: invitation.expiresAt,
          },
          invitationLines(invitation),
        );
      }),
    );
  admin
    .command('approve [devices...]')
    .description('check enrolled devices (MAC under the code) and certify those named, or --all')
    .option('--all', 'certify every device whose check passes')
    .action(
      commandAction(context, async (run) => {
        const names = run.command.args;
        const all = run.command.opts<{ all?: boolean }>().all === true;
        const results = await approveEnrolments(
          await session(run),
          { ...(all ? {} : { only: names }), dryRun: !all && names.length === 0 },
          run.context.now(),
        );
        const attacks = results.filter((r) => r.outcome === 'attack');
        run.output.result({ results }, [
          ...(results.length === 0 ? ['no enrolled devices are waiting'] : []),
          ...results.map((r) =>
            r.outcome === 'attack'
              ? `ATTACK  ${r.userId}/${r.deviceId} (${r.fingerprint.slice(0, 16)}): the enrolment does not match its code; keys were swapped in transit. NOT certified. Tell the operator; enrol the person again in person.`
              : `${r.outcome.padEnd(11)} ${r.userId}/${r.deviceId}  ${formatFingerprint(r.fingerprint.slice(0, 16))}${r.detail ? `  (${r.detail})` : ''}`,
          ),
          ...(!all && names.length === 0 && results.some((r) => r.outcome === 'skipped')
            ? [
                'Compare each fingerprint with the one the device shows, then: ratsfach admin approve <device> (or --all).',
              ]
            : []),
        ]);
        return attacks.length > 0 ? ExitCode.error : ExitCode.ok;
      }),
    );
}

function registerDevices(admin: Command, context: CliContext): void {
  const devices = admin.command('devices').description("people's devices and admin devices");
  devices
    .command('list [person]')
    .description('devices per person, with certification state and expiry')
    .action(
      commandAction(context, async (run) => {
        const [only] = run.command.args;
        const now = run.context.now();
        const people = (await listPeople(await session(run))).filter(
          (p) => only === undefined || p.userId === only,
        );
        const all = people.flatMap((p) => p.devices);
        run.output.result(
          { devices: all.map(deviceJson) },
          all.length === 0
            ? ['no devices']
            : all.map(
                (d) =>
                  `${d.userId}/${d.deviceId}  ${deviceState(d, now)}  ${d.fingerprint.slice(0, 16)}`,
              ),
        );
      }),
    );
  devices
    .command('renew <person> <device>')
    .description("renew a device's certificate (same keys, fresh validity)")
    .action(
      commandAction(context, async (run) => {
        const [userId, deviceId] = run.command.args as [string, string];
        const device = await renewDevice(await session(run), userId, deviceId, run.context.now());
        run.output.result(deviceJson(device), [
          `renewed ${userId}/${deviceId} until ${isoOf(device.notAfter)}`,
        ]);
      }),
    );
  devices
    .command('revoke <person> <device>')
    .description('revoke a device at once (a lost tablet); the next epochs exclude it')
    .option('--reason <text>', 'why (kept in the record)', 'revoked by the administration')
    .action(
      commandAction(context, async (run) => {
        const [userId, deviceId] = run.command.args as [string, string];
        const device = await revokeDevice(
          await session(run),
          userId,
          deviceId,
          run.command.opts<{ reason: string }>().reason,
          run.context.now(),
        );
        run.output.result(deviceJson(device), [
          `revoked ${userId}/${deviceId}; it is refused at once. Staff devices start a new epoch at their next sync.`,
        ]);
      }),
    );
  devices
    .command('admins')
    .description('the admin devices of the tenant')
    .action(
      commandAction(context, async (run) => {
        const now = run.context.now();
        const list = await listAdminDevices(await session(run));
        run.output.result(
          { devices: list.map(deviceJson) },
          list.map(
            (d) =>
              `${d.userId}/${d.deviceId}  ${deviceState(d, now)}  ${d.fingerprint.slice(0, 16)}`,
          ),
        );
      }),
    );
  serviceOptions(
    devices
      .command('request')
      .description(
        'on a NEW admin device: make its keys and profile, write its certification request',
      ),
  )
    .requiredOption(
      '--root-fingerprint <hex>',
      "the tenant root's fingerprint, as written down at init",
    )
    .requiredOption('--user <id>', "the administrator's user id")
    .requiredOption('--device <id>', "this device's id")
    .requiredOption('--out <file>', 'where to write the request (carry it to the root key holder)')
    .action(
      commandAction(context, async (run) => {
        await cryptoReady();
        const o = run.command.opts<{
          server: string;
          tenant: string;
          rootFingerprint: string;
          user: string;
          device: string;
          out: string;
        }>();
        const rootFingerprint = o.rootFingerprint.replace(/\s/g, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(rootFingerprint)) {
          throw new ValidationError(
            CliErrorCode.usage,
            'the root fingerprint must be 64 hex digits',
            {
              hint: 'Copy it from `ratsfach admin root fingerprint` on the root key file.',
            },
          );
        }
        const keys = generateDeviceKeys();
        await createProfile(
          run.profileDir,
          {
            kind: ProfileKind.admin,
            serverUrl: serverUrlOf(o.server),
            tenantId: o.tenant,
            userId: o.user,
            deviceId: o.device,
            rootFingerprint,
            createdAt: run.context.now().toISOString(),
          },
          keys,
          await choosePassphrase(run.devicePassphrase, 'device passphrase'),
        );
        const request = {
          format: 'ratsfach-admin-device-request',
          tenantId: o.tenant,
          userId: o.user,
          deviceId: o.device,
          signingKey: base64urlEncode(keys.signing.publicKey),
          kemKey: base64urlEncode(keys.kem.publicKey),
        };
        await writeFile(o.out, `${JSON.stringify(request, null, 2)}\n`, { flag: 'wx' });
        const own = fingerprint(keys.signing.publicKey);
        run.output.result({ ...request, fingerprint: own }, [
          `wrote ${o.out}; this device's fingerprint: ${formatFingerprint(own)}`,
          'Carry the file to the root key holder: ratsfach admin devices certify-admin --request <file> --root <root file>',
        ]);
      }),
    );
  rootOptions(
    devices
      .command('certify-admin')
      .description('certify another admin device with the root key file')
      .requiredOption('--request <file>', 'the request `devices request` wrote on the new device'),
  ).action(
    commandAction(context, async (run) => {
      const o = run.command.opts<{ request: string; root: string }>();
      const request = await readAdminRequest(o.request);
      const admin = await session(run);
      const root = await openRoot(run, o.root);
      const device = await certifyAdminDevice(admin, root, request, run.context.now());
      run.output.result(deviceJson(device), [
        `certified admin device ${device.userId}/${device.deviceId} until ${isoOf(device.notAfter)}`,
        `its fingerprint: ${formatFingerprint(device.fingerprint)} (compare it with the new device's)`,
        'a heartbeat from this device puts it in force: it can sign at once',
        'Put the root key file back offline.',
      ]);
    }),
  );
  rootOptions(
    devices
      .command('revoke-admin <device>')
      .description('revoke an admin device with the root key file')
      .option('--reason <text>', 'why (kept in the record)', 'revoked by the root key holder'),
  ).action(
    commandAction(context, async (run) => {
      const [deviceId] = run.command.args as [string];
      const o = run.command.opts<{ reason: string; root: string }>();
      const admin = await session(run);
      const root = await openRoot(run, o.root);
      const device = await revokeAdminDevice(admin, root, deviceId, o.reason, run.context.now());
      run.output.result(deviceJson(device), [
        `revoked admin device ${device.deviceId}`,
        'Put the root key file back offline.',
      ]);
    }),
  );
}

async function readAdminRequest(path: string): Promise<AdminDeviceRequest> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    if (json.format !== 'ratsfach-admin-device-request') throw new Error('format');
    const text = (key: string) => {
      const value = json[key];
      if (typeof value !== 'string') throw new Error(key);
      return value;
    };
    return {
      tenantId: text('tenantId'),
      userId: text('userId'),
      deviceId: text('deviceId'),
      signingKey: base64urlDecode(text('signingKey')),
      kemKey: base64urlDecode(text('kemKey')),
    };
  } catch (cause) {
    throw new ValidationError(AdminErrorCode.unknown, `${path} is not an admin device request`, {
      hint: 'Pass the file `ratsfach admin devices request --out <file>` wrote on the new device.',
      cause,
    });
  }
}

/** A pino-compatible logger writing one JSON line per action to a sink. */
export const lineLog = (write: (line: string) => void, now: () => Date): AgentLog => {
  const line = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    write(`${JSON.stringify({ level, time: now().toISOString(), ...fields, msg })}\n`);
  return { info: line('info'), warn: line('warn') };
};

function registerHeartbeatAndAgent(admin: Command, context: CliContext): void {
  admin
    .command('heartbeat')
    .description("sign a heartbeat naming the tenant's user and committee chain heads")
    .action(
      commandAction(context, async (run) => {
        const beat = await signHeartbeat(await session(run), run.context.now());
        run.output.result(beat, [
          `heartbeat signed at ${isoOf(beat.time)} over ${beat.users} users and ${beat.committees} committees`,
        ]);
      }),
    );
  admin
    .command('agent')
    .description('run unattended: renew certificates before they lapse, sign heartbeats in time')
    .option('--every <seconds>', 'seconds between rounds', '3600')
    .option('--once', 'run one round and exit')
    .action(
      commandAction(context, async (run) => {
        const o = run.command.opts<{ every: string; once?: boolean }>();
        const everySeconds = Number(o.every);
        if (!Number.isFinite(everySeconds) || everySeconds < 1) {
          // NaN or 0 would turn the agent into a busy loop that logs in and reads every chain
          // of the tenant as fast as the service answers.
          throw new ValidationError(CliErrorCode.usage, '--every must be at least 1 second', {
            hint: 'Pass e.g. --every 3600 (one round an hour).',
          });
        }
        const passphrase = await readPassphrase(run.devicePassphrase, 'device passphrase');
        await cryptoReady();
        const log = lineLog((line) => run.context.stderr.write(line), run.context.now);
        const open = () => openAdminSession(run.profileDir, passphrase);
        if (o.once === true) {
          const actions = await agentRound(await open(), run.context.now(), log);
          run.output.result({ actions }, [`one round: ${actions.length} actions`]);
          return;
        }
        // A wrong passphrase or another device's profile would fail every round for ever: refuse
        // it now. The service may be down at start; rounds retry that.
        await readProfile(run.profileDir, ProfileKind.admin);
        await openProfileKeys(run.profileDir, passphrase);
        const controller = new AbortController();
        const unregister = run.context.onStop?.(() => controller.abort());
        let rounds: number;
        try {
          rounds = await runAgent({
            session: open,
            now: run.context.now,
            log,
            signal: controller.signal,
            everySeconds,
            sleep: (seconds, signal) =>
              sleep(seconds * 1000, undefined, { signal }).catch(() => undefined),
          });
        } finally {
          unregister?.();
        }
        run.output.result({ rounds }, [`agent stopped after ${rounds} rounds`]);
      }),
    );
}

/** Registers `ratsfach admin …` (one line in program.ts). */
export function registerAdminCommands(program: Command, context: CliContext): void {
  const admin = program
    .command('admin')
    .description('set up and run a tenant: root, admin devices, people, committees, devices');
  registerInit(admin, context);
  registerRootCommands(admin, context);
  registerPeople(admin, context);
  registerCommittees(admin, context);
  registerEnrolment(admin, context);
  registerDevices(admin, context);
  registerHeartbeatAndAgent(admin, context);
}
