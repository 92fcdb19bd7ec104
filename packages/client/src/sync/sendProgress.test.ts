import t from 'tap';
import { sendProgressLine } from './sendProgress.js';

t.test('a progress line with rate and ETA, throttled, ended with a newline', (t) => {
  let out = '';
  let now = 0;
  const line = sendProgressLine(
    (text) => (out += text),
    () => now,
    250,
  );
  const size = 64 * 1024 * 1024;
  line.update({ path: 'council/big.pdf', done: 8 * 1024 * 1024, size });
  now = 100;
  line.update({ path: 'council/big.pdf', done: 16 * 1024 * 1024, size });
  t.equal(out.split('\r').length - 1, 1, 'the second update within 250 ms is not shown');
  now = 1000;
  line.update({ path: 'council/big.pdf', done: 24 * 1024 * 1024, size });
  t.match(
    out,
    /\rsending council\/big\.pdf {2}37 % {2}24\.0\/64\.0 MiB {2}16\.0 MiB\/s {2}ETA 3 s/,
  );
  now = 1010;
  line.update({ path: 'council/big.pdf', done: size, size });
  t.match(out, /100 % {2}64\.0\/64\.0 MiB/, 'the last part is always shown');
  t.notMatch(out.slice(out.lastIndexOf('\r')), /ETA/, 'no ETA when done');
  line.end();
  t.ok(out.endsWith('\n'));
  line.update({ path: 'council/empty.txt', done: 0, size: 0 });
  t.match(out, /sending council\/empty\.txt {2}100 %/);
  const quiet = sendProgressLine(
    (text) => (out += text),
    () => 0,
  );
  const before = out;
  quiet.end();
  t.equal(out, before, 'nothing shown, nothing ended');
  t.end();
});
