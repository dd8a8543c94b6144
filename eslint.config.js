import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'console/dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
      'no-restricted-properties': ['error', { object: 'it', property: 'only' }, { object: 'describe', property: 'only' }, { object: 'test', property: 'only' }],
    },
  },
  {
    // node:assert builds the message of a message-less assert.ok(x) / assert(x) by re-reading the
    // call site's source file and parsing it with acorn. Under tsx the call site is a position in
    // the compiled code (line 1, column thousands), so a failing check parses the TypeScript file
    // over and over and blocks the test's event loop for minutes instead of failing: one such
    // failure timed out a whole file in CI. A message skips that path.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length<2]",
          message: 'Give assert.ok a message: without one, a failure under tsx hangs the test (node:assert re-parses the file).',
        },
        {
          selector: "CallExpression[callee.name='assert'][arguments.length<2]",
          message: 'Give assert() a message: without one, a failure under tsx hangs the test (node:assert re-parses the file).',
        },
      ],
    },
  },
  {
    // The admin console's browser code (console/src, plain JS with JSDoc, built by Vite).
    files: ['console/src/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'URLSearchParams', 'EventSource', 'ResizeObserver', 'CSS', 'requestAnimationFrame', 'addEventListener', 'removeEventListener'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
