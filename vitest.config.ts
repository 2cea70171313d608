import { defineConfig } from 'vitest/config';

const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };
// Module mocks need a fresh module graph per file (vi.mock('ink') there).
const needsIsolation = ['test/ui/console-idle.test.tsx'];

export default defineConfig({
  test: {
    // Runs once for the whole run (the root project's); every project inherits what it provides.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Integration tests share one Docker engine and one machine with 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        // Pure logic and ink-testing-library renders: no file leaves module state behind that another
        // relies on (fake timers are put back in afterEach), so a worker keeps its modules from one
        // file to the next instead of loading React, Ink, zod… again in a fresh process for each
        // (measured: test/unit 73 s → 53 s wall and 66 s → 32 s of CPU on this 2-core machine).
        test: { ...timeouts, name: 'unit', include: ['test/unit/**/*.test.ts', 'test/ui/**/*.test.tsx'], exclude: needsIsolation, isolate: false },
      },
      {
        // Real services, the built CLI, tmux: each file in its own process, as before.
        test: { ...timeouts, name: 'services', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', ...needsIsolation] },
      },
    ],
  },
});
