import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Type-aware linting runs on one TypeScript program over sources, tests and benchmarks
// (tsconfig.test.json, which resolves the workspace packages from source). It covers the folders
// listed here; the rest gets it as its findings are fixed.
const typeChecked = ['packages/read-model'].map((folder) => `${folder}/**/*.ts`);

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tap/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
    },
  },
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: typeChecked })),
  {
    files: typeChecked,
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: dirname(fileURLToPath(import.meta.url)),
      },
    },
    rules: {
      // `async` without `await` is deliberate here: the ports are asynchronous, and an adapter on a
      // synchronous driver (better-sqlite3) implements them with async methods so that a throw
      // becomes a rejection; tap ends a subtest when its callback's promise settles, so an async
      // callback is how a test without awaits says "done" (a plain one would need t.end()).
      '@typescript-eslint/require-await': 'off',
      // tap queues a subtest and reports its failures itself; its promise never rejects.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: 'test' }] },
      ],
    },
  },
  {
    // The pure packages run in browsers too: no Node built-ins.
    files: ['packages/domain/src/**/*.ts', 'packages/api-contract/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*'] }],
    },
  },
  {
    // crypto depends on the kernel only: a change to a council rule must not reach it.
    files: ['packages/crypto/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', '@ratsfach/domain*'] }],
    },
  },
  {
    // The storage packages depend on the kernel only, tests included: council rules never reach them.
    files: ['packages/event-store/**/*.ts', 'packages/blob-store/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@ratsfach/domain*'] }],
    },
  },
  {
    // The kernel sits under everything: no Node built-ins, no other package.
    files: ['packages/kernel/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', '@ratsfach/*'] }],
    },
  },
  {
    files: ['scripts/**', '**/bench/**', '**/*.test.ts', '**/test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
