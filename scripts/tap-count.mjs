// Reads tap's TAP output on stdin, echoes it, and ends with one line "N passed, N failed"
// (written to the file named by the first argument instead, when one is given, so the caller
// can print it last, after stopping its services).
// A test case is a top-level t.test() of a test file; a file that fails outside any of its
// test cases (a crash, a load error) counts as one failed case of its own. Coverage below the
// floor in .taprc (tap's "# ERROR: incomplete <kind> coverage" comments) counts as one failure.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let caseFailedInFile = false;
let coverageShort = false;
const summaryFile = process.argv[2];
const extra = Number(process.argv[3] ?? 0);

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  process.stdout.write(line + '\n');
  const nested = /^ {4}(not ok|ok) \d+/.exec(line);
  if (nested) {
    if (nested[1] === 'ok') passed++;
    else {
      failed++;
      caseFailedInFile = true;
    }
    continue;
  }
  if (/^# ERROR: incomplete \w+ coverage/.test(line)) {
    coverageShort = true;
    continue;
  }
  const file = /^(not ok|ok) \d+/.exec(line);
  if (file) {
    if (file[1] === 'not ok' && !caseFailedInFile) failed++;
    caseFailedInFile = false;
  }
}
if (coverageShort) {
  failed++;
  process.stdout.write('# coverage is below the floor in .taprc\n');
}
failed += extra;
const summary = `${passed} passed, ${failed} failed\n`;
if (summaryFile) writeFileSync(summaryFile, summary);
else process.stdout.write(summary);
process.exitCode = failed > 0 ? 1 : 0;
