import t from 'tap';
import { conflictName } from './conflictName.js';

const day = new Date('2026-12-03T10:00:00Z');

t.test('puts device and date before the extension, in the same folder', async (t) => {
  t.equal(
    conflictName('A/Agenda.pdf', 'laptop', day),
    'A/Agenda (conflict, laptop, 2026-12-03).pdf',
  );
  t.equal(conflictName('notes', 'tab', day), 'notes (conflict, tab, 2026-12-03)');
  t.equal(conflictName('x/.profile', 'tab', day), 'x/.profile (conflict, tab, 2026-12-03)');
  t.equal(conflictName('a.tar.gz', 'tab', day), 'a.tar (conflict, tab, 2026-12-03).gz');
});

t.test('a device name cannot smuggle a folder or a bracket into the name', async (t) => {
  t.equal(conflictName('a.txt', 'evil/../x)', day), 'a (conflict, evil_.._x_, 2026-12-03).txt');
  t.equal(conflictName('a.txt', '  ', day), 'a (conflict, device, 2026-12-03).txt');
});

t.test('counts up when the name is taken', async (t) => {
  const taken = new Set(['a (conflict, d, 2026-12-03).txt', 'a (conflict, d, 2026-12-03 2).txt']);
  t.equal(
    conflictName('a.txt', 'd', day, (c) => taken.has(c)),
    'a (conflict, d, 2026-12-03 3).txt',
  );
});
