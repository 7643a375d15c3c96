// Lint runs as part of `npm test`. The engine (src/) forbids `any`; checks must not coerce loosely.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The import boundary: checks are pure functions of recorded evidence. They read probe ids from
    // src/probes/ids.ts (and client selectors), never the observer, the runner, the network or files.
    files: [
      'src/checks/**/*.ts',
      'src/probes/ids.ts',
      'src/probes/clients.ts',
      'src/evidence/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'undici',
            'node:fs',
            'node:fs/promises',
            'fs',
            'node:http',
            'node:https',
            'node:net',
            'node:tls',
          ],
          patterns: [
            {
              group: ['**/observe', '**/observe.js', '**/http/*', '**/http/**'],
              message:
                'Checks judge recorded evidence: import probe ids from src/probes/ids.ts, never the observer or the runner.',
            },
            {
              group: [
                '**/probes/request*',
                '**/probes/plan*',
                '**/probes/types*',
                '**/auth/*',
                '**/reference/*',
                '**/emulate/*',
                '**/report/*',
              ],
              message:
                'Checks import only the pure probe vocabulary (src/probes/ids.ts, src/probes/clients.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/checks/**/*.ts'],
    rules: {
      // Strict by default: a check must not turn "3600" into 3600 or match headers by substring.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='Number']",
          message: 'Checks must not coerce values; use the strict helpers.',
        },
        {
          selector: "CallExpression[callee.name='parseInt']",
          message: 'Checks must not coerce values; use the strict helpers.',
        },
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'Checks must not coerce values; use the strict helpers.',
        },
      ],
    },
  },
);
