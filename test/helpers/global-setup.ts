import type {} from 'vitest';
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { removeTestContainers, startEngine, type PrivateEngine } from './docker-engine.js';

let engine: PrivateEngine | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    dockerHost: string;
    dockerPidFile: string;
    dockerSocket: string;
  }
}

/** One private Docker engine for the whole run (docs/TESTING.md); stopped at the end. */
export async function setup(project: TestProject): Promise<void> {
  // The CLI tests run the built entry, so build it from the current sources first (skipped when dist/
  // already holds their build: scripts/build.mjs --if-stale).
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  engine = await startEngine();
  project.provide('dockerHost', engine.host);
  project.provide('dockerPidFile', engine.pidFile);
  project.provide('dockerSocket', engine.socket);
}

export async function teardown(): Promise<void> {
  if (!engine) return;
  try {
    removeTestContainers(engine.host);
  } catch {
    // engine may already be stopped by a test
  }
  await engine.stop();
}
