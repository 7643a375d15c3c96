// Lint runs as part of `npm test`. The engine (src/) forbids `any`; checks must not coerce loosely.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/checks/**/*.ts'],
    rules: {
      // Strict by default: a check must not turn "3600" into 3600 or match headers by substring.
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='Number']", message: 'Checks must not coerce values; use the strict helpers.' },
        { selector: "CallExpression[callee.name='parseInt']", message: 'Checks must not coerce values; use the strict helpers.' },
        { selector: "CallExpression[callee.name='parseFloat']", message: 'Checks must not coerce values; use the strict helpers.' },
      ],
    },
  },
);
