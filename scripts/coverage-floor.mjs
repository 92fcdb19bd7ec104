// Prints the coverage of the last tap run beside the floor in .taprc, and which floors to raise:
// the floor only ever rises, so whoever lifts coverage lifts the floor with it. The floor stays one
// point below the whole figure, for the paths that differ from run to run (crash points, retries).
// tap itself fails a run below the floor; this script only reports, and exits 0.
//   node scripts/coverage-floor.mjs [path/to/coverage-summary.json]
import { existsSync, readFileSync } from 'node:fs';

const kinds = ['statements', 'branches', 'functions', 'lines'];
const summaryPath = process.argv[2] ?? '.tap/report/coverage-summary.json';
if (!existsSync(summaryPath)) {
  process.stdout.write(`# no coverage summary at ${summaryPath}\n`);
  process.exit(0);
}
const total = JSON.parse(readFileSync(summaryPath, 'utf8')).total;
const taprc = readFileSync('.taprc', 'utf8');
const raise = [];
for (const kind of kinds) {
  const measured = Number(total[kind].pct);
  const floor = Number(new RegExp(`^${kind}:\\s*([\\d.]+)`, 'm').exec(taprc)?.[1] ?? 100);
  process.stdout.write(`# coverage ${kind}: ${measured}% (floor ${floor}%)\n`);
  const next = Math.floor(measured) - 1;
  if (next > floor) raise.push(`${kind}: ${next}`);
}
if (raise.length > 0) {
  process.stdout.write(`# coverage rose: raise the floor in .taprc to ${raise.join(', ')}\n`);
}
