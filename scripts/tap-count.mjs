// Reads tap's TAP output on stdin, echoes it, and ends with one line "N passed, N failed".
// A test case is a top-level t.test() of a test file; a file that fails outside any of its
// test cases (a crash, a load error) counts as one failed case of its own.
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let caseFailedInFile = false;
const extra = Number(process.argv[2] ?? 0);

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
  const file = /^(not ok|ok) \d+/.exec(line);
  if (file) {
    if (file[1] === 'not ok' && !caseFailedInFile) failed++;
    caseFailedInFile = false;
  }
}
failed += extra;
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
