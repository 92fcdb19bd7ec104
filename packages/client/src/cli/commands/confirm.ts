import type { Command } from 'commander';
import { fingerprint } from '@ratsfach/crypto';
import { ValidationError } from '@ratsfach/kernel';
import { foldCommittees } from '../../keys/committeeViews.js';
import { keyUpkeep, type CommitteeKeys } from '../../keys/keyUpkeep.js';
import { deviceLine, keyReportLines } from '../../keys/keyReportLines.js';
import { KeysErrorCode } from '../../keys/keysErrorCode.js';
import { knownCommittees } from '../../keys/knownCommittees.js';
import { pendingConfirmations, type PendingConfirmation } from '../../keys/pendingConfirmations.js';
import { submitConfirmation } from '../../keys/submitConfirmation.js';
import type { CliContext } from '../cliContext.js';
import { CliErrorCode } from '../cliErrorCode.js';
import { commandAction } from '../commandAction.js';
import { describeError, ExitCode, type DescribedError } from '../output.js';
import { openKeyWork } from './keys.js';

/** What became of one pending item. */
type Outcome =
  | 'cosigned'
  | 'confirmed'
  | 'waiting'
  | 'skipped'
  | 'mismatch'
  | 'notHere'
  | 'doneElsewhere'
  | 'failed';

interface ItemResult {
  readonly kind: 'membership' | 'device';
  readonly committeeId: string | null;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly fingerprint: string | null;
  readonly role: string | null;
  readonly change: string | null;
  readonly outcome: Outcome;
  readonly detail: string | null;
  readonly error: DescribedError | null;
}

/** Hex digits of a typed fingerprint: case, spaces, dashes and colons ignored. */
const typedHex = (text: string): string => text.toLowerCase().replace(/[\s:-]/g, '');

const matches = (typed: string, actual: string): boolean => {
  const hex = typedHex(typed);
  return /^[0-9a-f]{16,64}$/.test(hex) && actual.startsWith(hex);
};

const describeItem = (item: PendingConfirmation): string =>
  item.kind === 'membership'
    ? item.change === 'founding'
      ? `your own founding-staff addition to ${item.committeeId}`
      : `${item.userId}'s ${item.change === 'promotion' ? 'promotion to staff' : `addition as ${item.role}`} in ${item.committeeId}`
    : `device ${deviceLine(item.device)}${item.committeeId === null ? ' (your own)' : ` (first device, for ${item.committeeId})`}`;

const resultOf = (
  item: PendingConfirmation,
  outcome: Outcome,
  detail: string | null = null,
  error: DescribedError | null = null,
): ItemResult => ({
  kind: item.kind,
  committeeId: item.committeeId,
  userId: item.kind === 'membership' ? item.userId : item.device.userId,
  deviceId: item.kind === 'device' ? item.device.deviceId : null,
  fingerprint: item.kind === 'device' ? item.device.fingerprint : null,
  role: item.kind === 'membership' ? item.role : null,
  change: item.kind === 'membership' ? item.change : null,
  outcome,
  detail,
  error,
});

const mismatch = (item: PendingConfirmation): ItemResult =>
  resultOf(item, 'mismatch', null, {
    code: KeysErrorCode.fingerprintMismatch,
    message: 'the fingerprint typed does not match the device',
    hint: 'Do not confirm a device you cannot see; ask the person to show `ratsfach status` on it.',
  });

const outcomeLine = (r: ItemResult): string => {
  const who =
    r.kind === 'membership'
      ? `${r.userId} ${r.change === 'promotion' ? 'promoted to staff' : `as ${r.role ?? ''}`} in ${r.committeeId ?? ''}`
      : `${r.userId}/${r.deviceId ?? ''}${r.committeeId === null ? '' : ` for ${r.committeeId}`}`;
  const text: Record<Outcome, string> = {
    cosigned: `co-signed   ${who}`,
    confirmed: `confirmed   ${who}`,
    waiting: `waiting     ${who}`,
    skipped: `skipped     ${who}`,
    mismatch: `NOT confirmed ${who}: the fingerprint does not match; do not confirm a device you cannot see`,
    notHere: `not yours   ${who}: ${r.detail ?? ''}`,
    doneElsewhere: `done        ${who} (another staff device did it first)`,
    failed: `failed      ${who}: ${r.error?.message ?? ''} (${r.error?.code ?? ''})`,
  };
  return text[r.outcome];
};

/**
 * `ratsfach confirm [<user>] [--committee C] [--fingerprint F] [--yes]` on a staff device: the
 * membership records to co-sign and the member devices nobody confirmed yet, from the verified
 * chains of the committees where this person is staff (a founding staff member's own addition
 * too). A device is confirmed only once its fingerprint was typed and matched (`--fingerprint`
 * or at the prompt) or with `--yes`; afterwards the key work wraps the current key for it.
 * Exit 3 when something still waits for the person, 1 on a mismatch or a failure.
 */
export const registerConfirm = (program: Command, context: CliContext): void => {
  program
    .command('confirm')
    .description(
      'co-sign memberships and confirm member devices on a staff device, comparing fingerprints',
    )
    .argument('[user]', 'only this person')
    .option('--committee <id>', 'only this committee (needed once by a founding staff member)')
    .option('--fingerprint <hex>', 'the fingerprint the device shows (ratsfach status on it)')
    .option('--yes', 'co-sign and confirm what is listed without asking')
    .action(
      commandAction(context, async (run) => {
        const [user] = run.command.args as [string | undefined];
        const options = run.command.opts<{
          committee?: string;
          fingerprint?: string;
          yes?: boolean;
        }>();
        if (
          options.fingerprint !== undefined &&
          !/^[0-9a-f]{16,64}$/.test(typedHex(options.fingerprint))
        ) {
          throw new ValidationError(
            CliErrorCode.usage,
            'the fingerprint must be 16 to 64 hex digits',
            {
              hint: 'Copy it from `ratsfach status` on the device to confirm (groups of four; spaces are ignored).',
            },
          );
        }
        const work = await openKeyWork(run);
        try {
          const { api, chains, device } = work;
          const known = await knownCommittees(api, work.state, device.tenantId, device.userId);
          const committees =
            options.committee === undefined ? [...known.keys()] : [options.committee];
          const self = {
            userId: device.userId,
            fingerprint: fingerprint(device.keys.signing.publicKey),
          };
          let views = await foldCommittees(chains, device, committees, work.state);
          const failed = [...views.failed].map(([committeeId, error]) => ({ committeeId, error }));
          const selected = (item: PendingConfirmation): boolean => {
            const userId = item.kind === 'membership' ? item.userId : item.device.userId;
            if (user !== undefined && userId !== user) return false;
            if (options.committee !== undefined && item.committeeId !== null) {
              return item.committeeId === options.committee;
            }
            return true;
          };
          const results: ItemResult[] = [];
          const touched = new Set<string>();
          const submit = async (item: PendingConfirmation, outcome: 'cosigned' | 'confirmed') => {
            try {
              const done = await submitConfirmation(
                { api, chains, device, committees, state: work.state },
                views,
                item.key,
              );
              views = done.views;
              results.push(resultOf(item, done.submitted ? outcome : 'doneElsewhere'));
              if (item.committeeId !== null) touched.add(item.committeeId);
              else for (const id of views.committees.keys()) touched.add(id);
            } catch (error) {
              results.push(resultOf(item, 'failed', null, describeError(error)));
            }
          };

          // Memberships first: a co-signature can make this person staff or a member a key
          // holder, whose devices then wait for confirmation.
          // A founding co-signature makes this person staff, so the others' additions show
          // only after it: decide in rounds until no new membership appears.
          const handled = new Set<string>();
          for (let round = 0; ; round++) {
            const next = pendingConfirmations(views, self)
              .filter(selected)
              .filter((item) => item.kind === 'membership' && !handled.has(item.key));
            if (next.length === 0) break;
            let signed = false;
            for (const item of next) {
              handled.add(item.key);
              const asked =
                options.yes === true
                  ? true
                  : context.ask === undefined
                    ? null
                    : /^(y|yes|ja|j)$/i.test(
                        (await context.ask(`Co-sign ${describeItem(item)}? [y/N] `)).trim(),
                      );
              if (asked === null) results.push(resultOf(item, 'waiting'));
              else if (!asked) results.push(resultOf(item, 'skipped'));
              else {
                await submit(item, 'cosigned');
                signed = true;
              }
            }
            if (!signed) break;
            views = await foldCommittees(chains, device, committees, work.state);
          }
          for (const item of pendingConfirmations(views, self).filter(selected)) {
            if (item.kind !== 'device') continue;
            if (item.notHere !== null) {
              results.push(resultOf(item, 'notHere', item.notHere));
              continue;
            }
            const shown = item.device.fingerprint;
            if (options.fingerprint !== undefined) {
              if (matches(options.fingerprint, shown)) await submit(item, 'confirmed');
              else results.push(mismatch(item));
              continue;
            }
            if (options.yes === true) {
              await submit(item, 'confirmed');
              continue;
            }
            if (context.ask === undefined) {
              results.push(resultOf(item, 'waiting'));
              continue;
            }
            const typed = await context.ask(
              `Confirm ${describeItem(item)}: type the fingerprint that device shows (ratsfach status there), or nothing to skip: `,
            );
            if (typed.trim() === '') results.push(resultOf(item, 'skipped'));
            else if (matches(typed, shown)) await submit(item, 'confirmed');
            else results.push(mismatch(item));
          }

          // The key work follows at once where this device is staff and something changed.
          const staffTouched = [...touched].filter((id) =>
            views.committees.get(id)?.state.staff().includes(device.userId),
          );
          const keys: CommitteeKeys[] =
            staffTouched.length === 0
              ? []
              : await keyUpkeep({
                  api,
                  chains,
                  device,
                  state: work.state,
                  committees: staffTouched,
                  now: context.now(),
                });

          const lines =
            results.length === 0
              ? [
                  committees.length === 0
                    ? 'nothing to confirm: this device knows no committee yet (a founding staff member names it once: ratsfach confirm --committee <id>)'
                    : 'nothing to confirm',
                ]
              : results.map(outcomeLine);
          for (const f of failed) {
            lines.push(`cannot read ${f.committeeId}: ${f.error.message} (${f.error.code})`);
          }
          if (results.some((r) => r.outcome === 'waiting')) {
            lines.push(
              'Compare each fingerprint with the one the device shows (ratsfach status on it), then: ratsfach confirm <user> --fingerprint <hex> (or --yes).',
            );
          }
          if (results.some((r) => r.outcome === 'mismatch')) {
            lines.push(
              `hint: a device whose fingerprint does not match may not be the person's (${KeysErrorCode.fingerprintMismatch}); ask the administration before anything else.`,
            );
          }
          lines.push(...keys.flatMap(keyReportLines));
          run.output.result({ results, failed, keys }, lines);
          if (
            failed.length > 0 ||
            keys.some((k) => k.error !== null) ||
            results.some((r) => r.outcome === 'mismatch' || r.outcome === 'failed')
          ) {
            return ExitCode.error;
          }
          return results.some((r) => r.outcome === 'waiting') ? ExitCode.needsUser : ExitCode.ok;
        } finally {
          work.state.close();
        }
      }),
    );
};
