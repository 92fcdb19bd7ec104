/**
 * Child process of entryPoints.test.ts: imports the module named in argv[2] and prints, as JSON,
 * which database drivers that import loaded. The drivers are CommonJS packages, so every file of
 * theirs that Node loaded is in the CommonJS module cache, also when ESM imported it.
 */
import { createRequire } from 'node:module';

const drivers = ['better-sqlite3', 'pg', '@kurrent/kurrentdb-client'] as const;
const specifier = process.argv[2];
if (specifier === undefined) throw new Error('usage: loadedDrivers.ts <module specifier>');
await import(specifier);
const loaded = Object.keys(createRequire(import.meta.url).cache);
const driverOf = (file: string): string | undefined =>
  drivers.find((name) => file.includes(`/node_modules/${name}/`));
process.stdout.write(
  JSON.stringify([...new Set(loaded.map(driverOf).filter((d) => d !== undefined))].sort()) + '\n',
);
