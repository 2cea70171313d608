import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const notUi = [{ group: ['react', 'ink', 'ink-*', '*/ui/*', '../ui/*'], message: 'services, domain and config never import the UI (docs/STYLE.md §1)' }];
const dockerParts = { group: ['**/services/docker/*', './docker/*'], message: 'use the Docker facade, services/docker.ts (issue #15)' };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tmp/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs', 'bench/*.mjs'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 20 }, tsconfigRootDir: import.meta.dirname },
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
    // Docker is reached through its facade, services/docker.ts; its parts stay inside (issue #15).
    files: ['src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [dockerParts] }] },
  },
  {
    // Layers with one direction (docs/STYLE.md §1): services and domain never import the UI.
    files: ['src/services/**', 'src/domain/**', 'src/config/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...notUi, dockerParts] }],
    },
  },
  {
    // The facade and its parts may import each other.
    files: ['src/services/docker.ts', 'src/services/docker/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: notUi }] },
  },
  {
    // The domain imports nothing but itself and config types: what services return is in
    // domain/observations.ts (issue #15).
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...notUi, dockerParts, { group: ['**/services/*', '**/state/*', '**/engine/*', '**/runbooks/*', '**/cli/*'], message: 'the domain imports no service, state, engine, runbook or CLI module: observation types live in domain/observations.ts (issue #15)' }] }],
    },
  },
  {
    // The whole import direction (issue #15; ARCHITECTURE.md "Layers"): services never import state,
    // the engine, runbooks, the CLI or the UI; the engine and state never import runbooks, the CLI or the UI.
    files: ['src/services/**'],
    ignores: ['src/services/docker.ts', 'src/services/docker/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...notUi, dockerParts, { group: ['**/state/*', '**/engine/*', '**/runbooks/*', '**/cli/*'], message: 'services sit below state, the engine, runbooks and the CLI (ARCHITECTURE.md)' }] }] },
  },
  {
    files: ['src/ui/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [dockerParts, { group: ['**/runbooks/*', '**/cli/*'], message: 'the console is handed what it shows (the runbook catalog comes from cli/console.ts); ui/ imports no runbook or CLI module (ARCHITECTURE.md)' }] }] },
  },
  {
    files: ['src/state/**', 'src/engine/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...notUi, dockerParts, { group: ['**/runbooks/*', '**/cli/*'], message: 'state and the engine sit below runbooks and the CLI (ARCHITECTURE.md)' }] }] },
  },
  {
    // Every switch over a union handles each member (or says default); functions stay readable; files
    // stay under 400 lines — the two exceptions say at their top why (ARCHITECTURE.md "House rules").
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      complexity: ['error', 40],
      'max-lines': ['error', { max: 400 }],
    },
  },
  {
    files: ['src/services/backup-restore.ts', 'src/runbooks/restore-steps.ts'],
    rules: { 'max-lines': 'off' },
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
