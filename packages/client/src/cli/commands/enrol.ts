import { hostname } from 'node:os';
import type { Command } from 'commander';
import { cryptoReady, parseEnrolmentCode } from '@ratsfach/crypto';
import { ValidationError } from '@ratsfach/kernel';
import { ApiClient, ApiProblemError } from '../../http/apiClient.js';
import { logInDevice } from '../../http/deviceLogin.js';
import { submitDeviceEnrolment } from '../../keys/enrolment.js';
import { openSyncState } from '../../sync/syncStateFile.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { ExitCode } from '../output.js';
import { choosePassphrase } from '../passphrase.js';
import { createProfile, openProfileKeys, ProfileKind, readProfile } from '../profile.js';

interface EnrolOptions {
  readonly server?: string;
  readonly tenant: string;
  readonly user: string;
  readonly code?: string;
  readonly name?: string;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly interval: string;
}

const usage = (message: string, hint: string): ValidationError =>
  new ValidationError(CliErrorCode.usage, message, { hint });

/** Polls login until the administrator certified the device, or the time is up. */
const waitForCertification = async (
  attempt: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs: number,
  now: () => Date,
): Promise<boolean> => {
  const end = now().getTime() + timeoutMs;
  for (;;) {
    if (await attempt()) return true;
    if (now().getTime() + intervalMs > end) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/**
 * `ratsfach enrol <server-url> <code> --tenant <t> --user <u>` (or `--server`/`--code`, as the
 * administrator's invitation prints it): makes this device's keys, seals them under a new
 * passphrase in the profile, submits them under the code, and with `--wait` waits until the
 * administrator certified the device. Exit 3 while it waits for the administrator.
 */
export const registerEnrol = (program: Command, context: CliContext): void => {
  program
    .command('enrol')
    .description('enrol this device with the code your administrator handed you')
    .argument('[server-url]', 'the service address, e.g. https://ratsfach.example.org')
    .argument('[code]', 'the enrolment code (dashes and case do not matter)')
    .option('--server <url>', 'the service address (instead of the first argument)')
    .requiredOption('--tenant <id>', 'the tenant the code was made for')
    .requiredOption('--user <id>', 'the person the code was made for')
    .option('--code <code>', 'the enrolment code (instead of the second argument)')
    .option('--name <name>', 'a name for this device, shown in conflict copies')
    .option('--wait', 'wait until the administrator has certified this device')
    .option('--timeout <seconds>', 'how long --wait waits', '600')
    .option('--interval <seconds>', 'how often --wait asks', '3')
    .action(
      commandAction(context, async (run) => {
        await cryptoReady();
        const [serverArg, codeArg] = run.command.args as [string?, string?];
        const options = run.command.opts<EnrolOptions>();
        const serverUrl = (options.server ?? serverArg)?.replace(/\/+$/, '');
        const codeText = options.code ?? codeArg;
        if (serverUrl === undefined || !/^https?:\/\/[^/]/.test(serverUrl)) {
          throw usage(
            'the service address is missing or not an http(s) URL',
            'give it as the first argument or with --server https://…',
          );
        }
        if (codeText === undefined) {
          throw usage(
            'the enrolment code is missing',
            'give it as the second argument or with --code',
          );
        }
        const code = parseEnrolmentCode(codeText);
        const existing = await readProfile(run.profileDir).catch((error: { code?: string }) => {
          if (error.code === CliErrorCode.profileMissing) return undefined;
          throw error;
        });
        if (existing !== undefined) {
          throw usage(
            `${run.profileDir} already holds the device ${existing.deviceId}`,
            'enrol into a new profile with --profile <dir>; a device profile is never overwritten',
          );
        }
        const passphrase = await choosePassphrase(run.devicePassphrase, 'device passphrase');
        const api = new ApiClient({ baseUrl: serverUrl });
        const submitted = await submitDeviceEnrolment(api, code, {
          tenantId: options.tenant,
          userId: options.user,
        });
        await createProfile(
          run.profileDir,
          {
            kind: ProfileKind.member,
            serverUrl,
            tenantId: options.tenant,
            userId: options.user,
            deviceId: submitted.deviceId,
            // A member device knows only the pinned prefix until it sees the root itself.
            rootFingerprint: submitted.rootPin,
            createdAt: context.now().toISOString(),
          },
          submitted.keys,
          passphrase,
        );
        const state = openSyncState(run.profileDir);
        state.setSetting('deviceName', options.name ?? hostname());
        state.close();
        const facts = {
          deviceId: submitted.deviceId,
          fingerprint: submitted.fingerprint,
          profile: run.profileDir,
        };
        run.output.note(
          `submitted: device ${submitted.deviceId}, key fingerprint ${submitted.fingerprint.slice(0, 16)}…`,
        );
        if (options.wait !== true) {
          run.output.result({ ...facts, status: 'waiting' }, [
            'Your administrator now has to certify this device (ratsfach admin approve).',
            'Compare the fingerprint above with theirs; then run `ratsfach sync <folder>`.',
          ]);
          return ExitCode.needsUser;
        }
        const keys = await openProfileKeys(run.profileDir, passphrase);
        const certified = await waitForCertification(
          async () => {
            try {
              await logInDevice(api, {
                tenantId: options.tenant,
                deviceId: submitted.deviceId,
                signing: keys.signing,
              });
              return true;
            } catch (error) {
              if (error instanceof ApiProblemError && error.status < 500) return false;
              throw error;
            }
          },
          Number(options.timeout) * 1000,
          Number(options.interval) * 1000,
          context.now,
        );
        run.output.result(
          { ...facts, status: certified ? 'certified' : 'waiting' },
          certified
            ? ['This device is certified. Run `ratsfach sync <folder>` to get your documents.']
            : ['Not certified yet; ask your administrator, then run `ratsfach status`.'],
        );
        return certified ? ExitCode.ok : ExitCode.needsUser;
      }),
    );
};
