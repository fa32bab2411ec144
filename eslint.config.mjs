// ESLint: type-aware rules for the whole project, and determinism rules for workflow code.
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.tools/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A forgotten await on an activity, a workflow API or an HTTP call is a bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Types are imported as types (erased at build time, never pulled into the workflow bundle by accident).
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    // One import order everywhere, as the Temporal SDK keeps it: Node built-ins, packages, then this repository.
    plugins: { import: importPlugin },
    rules: {
      'import/order': [
        'error',
        {
          groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']],
          'newlines-between': 'never',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      // Floors that only go one way: no module reaches itself through its (value) imports.
      'import/no-cycle': ['error', { ignoreExternal: true }],
      // Floors that only go one way: the processes (src/processes/: worker, CLI, demo, codec server) use the
      // adapters (the rest of src/), activities/ and workflows/; none of those imports a process.
      'import/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: ['./activities', './workflows', './src/!(processes)/**', './src/*.ts'],
              from: './src/processes',
              message: 'Adapters, activities and workflows must not import a process (src/processes/).',
            },
          ],
        },
      ],
    },
    // Relative imports of .ts files resolved by the node resolver (no TypeScript resolver needed for them).
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
  },
  {
    // Tests poke at parsed JSON; `any` there is a convenience, not a design choice.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Activity log lines carry the workflow and activity ids: they go through activityLogger, not the bare logger.
    files: ['activities/**/*.ts'],
    ignores: ['activities/activity-logger.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='logger']",
          message: 'Log through activityLogger(deps, { … }) so the line carries the workflow and activity ids.',
        },
      ],
    },
  },
  {
    // Workflow code is replayed and must be deterministic: no Node built-ins, no I/O, no clients.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must be deterministic: no Node built-ins in workflows/.',
            })),
            ...['undici', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map((name) => ({
              name,
              message: 'Workflow code must not do I/O: talk to the outside world from activities/.',
            })),
          ],
          patterns: [
            {
              group: [
                '../src/*',
                '../src/**',
                '../activities',
                '../activities/*',
                '../../src/*',
                '../../src/**',
                '../../activities',
                '../../activities/*',
              ],
              allowTypeImports: true,
              message: 'workflows/ may import only types from activities/ and src/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow in a loop.' },
        { name: 'fetch', message: 'No I/O in workflows: use an activity.' },
        { name: 'process', message: 'No environment access in workflows: pass values as workflow input.' },
      ],
    },
  },
);
