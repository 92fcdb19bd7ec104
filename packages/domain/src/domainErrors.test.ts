import { RatsfachError } from '@ratsfach/kernel';
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainErrorCode } from './domainErrorCode.js';
import { domainError, domainErrorCatalogue, domainErrors } from './domainErrors.js';

const codeNames = Object.keys(DomainErrorCode) as (keyof typeof DomainErrorCode)[];

t.test('the catalogue holds exactly one entry for every code', async (t) => {
  t.same(Object.keys(domainErrorCatalogue).sort(), [...codeNames].sort());
  for (const name of codeNames) {
    const { hint } = domainErrorCatalogue[name];
    t.ok(hint.length > 0 && !hint.endsWith('.'), `${name} has a one-sentence hint`);
  }
});

t.test('each error built from the catalogue carries its code, kind and only hint', async (t) => {
  for (const name of codeNames) {
    const error = domainError(name, `refused: ${name}`, { x: 1 });
    t.ok(error instanceof RatsfachError, name);
    t.equal(error.code, DomainErrorCode[name]);
    t.equal(error.kind, domainErrorCatalogue[name].kind, `${name} is a ${error.kind}`);
    t.equal(error.hint, domainErrorCatalogue[name].hint);
    t.same(error.details, { x: 1 });
  }
});

t.test('every factory yields a catalogued refusal: one code, one kind, one hint', async (t) => {
  const hintsByCode = new Map<string, Set<string>>();
  const kindsByCode = new Map<string, Set<string>>();
  for (const [factoryName, factory] of Object.entries(domainErrors)) {
    // Arguments of the right arity; the factories only format them into message and details.
    const args = Array.from({ length: factory.length }, (_, i) => `arg${i}`);
    const error = (factory as (...a: unknown[]) => RatsfachError)(...args);
    const name = codeNames.find((n) => DomainErrorCode[n] === error.code);
    if (name === undefined) {
      t.fail(`${factoryName} yields an uncatalogued code ${error.code}`);
      continue;
    }
    t.equal(error.hint, domainErrorCatalogue[name].hint, `${factoryName} uses the hint of ${name}`);
    t.ok(error.message.length > 0, `${factoryName} says what was refused`);
    hintsByCode.set(error.code, (hintsByCode.get(error.code) ?? new Set()).add(error.hint ?? ''));
    kindsByCode.set(error.code, (kindsByCode.get(error.code) ?? new Set()).add(error.kind));
  }
  for (const [code, hints] of hintsByCode) t.equal(hints.size, 1, `${code} has one hint`);
  for (const [code, kinds] of kindsByCode) t.equal(kinds.size, 1, `${code} has one kind`);
});

t.test('no domain source builds a refusal inline instead of through the catalogue', async (t) => {
  const root = fileURLToPath(new URL('.', import.meta.url));
  // The basics the kernel package takes over keep their own codes until they move there;
  // the fake verifier imitates @ratsfach/crypto's codes.
  const allowed = new Set([
    'errors.ts',
    'domainErrors.ts',
    'canonicalJson.ts',
    'streamName.ts',
    join('testing', 'fakeRecordVerifier.ts'),
  ]);
  const sources = (readdirSync(root, { recursive: true }) as string[]).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !allowed.has(file),
  );
  t.ok(sources.length > 20, 'the walk finds the domain sources');
  const inline = /new (Validation|NotFound|Forbidden|Conflict|Integrity|Unavailable)Error\(/;
  for (const file of sources) {
    t.notOk(inline.test(readFileSync(join(root, file), 'utf8')), `${file} throws via domainErrors`);
  }
});
