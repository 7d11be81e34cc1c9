// Lint rules: typescript-eslint's type-aware set, plus Temporal's workflow sandbox rules
// (no Node built-ins, no I/O, no wall clock in workflows/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  // .ci/packed-app/ is compiled (strict) against the packed package by .ci/packed-app.sh, not from this tree.
  {
    ignores: ['node_modules/', 'dist/', 'emulator/dist/', '.tools/', '.local/', '.ci/', 'eslint.config.mjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in a sandbox: no Node built-ins.',
          })),
          patterns: [
            {
              group: ['@aws-sdk/*', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'],
              message: 'Workflow code must not do I/O or load worker/client code.',
            },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message:
            'Use workflow time via Date only through the sandbox; prefer workflowInfo() or explicit timers.',
        },
        { selector: "MemberExpression[object.name='process']", message: 'No process in workflow code.' },
      ],
    },
  },
  {
    files: ['cli/**/*.ts', 'emulator/cli/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
