import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs', 'bench/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-console': 'error',
      // Terminal output is tested for ANSI escapes on purpose.
      'no-control-regex': 'off',
      // Interface methods are async by contract; some implementations need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Layers with one direction (STYLE.md §1): services and domain never import the UI.
    files: ['src/services/**', 'src/domain/**', 'src/config/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['react', 'ink', 'ink-*', '*/ui/*', '../ui/*'] }],
    },
  },
  {
    // One failure model (issue #15): below the CLI, failures are a Failure with a kind (or a Result);
    // only the CLI has exit codes (src/cli/exit-codes.ts).
    files: ['src/services/**', 'src/domain/**', 'src/engine/**', 'src/runbooks/**', 'src/state/**'],
    ignores: ['src/domain/errors.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='ExitError']", message: 'services, the engine and runbooks fail with a Failure of a kind; the CLI maps kinds to exit codes (src/cli/exit-codes.ts)' }],
    },
  },
  {
    files: ['src/cli/output.ts', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly', setTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
  },
);
