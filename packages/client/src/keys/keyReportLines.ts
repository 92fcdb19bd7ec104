import { formatFingerprint } from '../admin/rootKeyFile.js';
import type { CommitteeKeys, DeviceRef } from './keyUpkeep.js';

/**
 * How a device is shown to a person: user/device and the first 16 hex digits of its fingerprint
 * in groups of four, as `ratsfach status` shows it on the device itself.
 */
export const deviceLine = (d: DeviceRef): string =>
  `${d.userId}/${d.deviceId}  ${formatFingerprint(d.fingerprint.slice(0, 16))}`;

const names = (devices: readonly DeviceRef[]): string =>
  devices.length === 0 ? 'none' : devices.map((d) => `${d.userId}/${d.deviceId}`).join(', ');

/** The lines of one committee's key report, for a person. */
export function keyReportLines(report: CommitteeKeys): string[] {
  const role = report.staff ? 'staff' : (report.role ?? 'not a member');
  const epoch = report.epoch < 0 ? 'no key epoch yet' : `epoch ${report.epoch}`;
  const did =
    report.action === 'started'
      ? `, started now (${report.reason ?? ''}) for ${names(report.wrappedFor)}`
      : report.action === 'wrapped'
        ? `, key wrapped now for ${names(report.wrappedFor)}`
        : '';
  const lines = [`${report.committeeId}: ${role}, ${epoch}${did}`];
  if (report.epoch >= 0) {
    lines.push(`  holds the current key: ${names(report.holders)}`);
    if (!report.holdsKey && report.role !== null) lines.push('  this device does not hold it yet');
  }
  for (const d of report.waiting) {
    lines.push(
      `  waits for confirmation: ${deviceLine(d)}  (on a staff device: ratsfach confirm ${d.userId})`,
    );
  }
  for (const d of report.unwrapped) {
    lines.push(
      `  confirmed, key not yet wrapped: ${d.userId}/${d.deviceId} (needs an admin heartbeat that names it)`,
    );
  }
  if (report.error !== null) {
    lines.push(`  not done: ${report.error.message} (${report.error.code})`);
    if (report.error.hint) lines.push(`  hint: ${report.error.hint}`);
  }
  return lines;
}
