// Where the demo meets the console (issue #3) and the backups (issue #4).
import type { GlobalOptions } from './output.js';

/** Opens the console on the demo's config. */
export async function openConsole(g: GlobalOptions): Promise<number> {
  return (await import('./console.js')).consoleCommand(g);
}

/** Takes and verifies the demo's first backup; returns a sentence for the operator. */
export async function demoBackup(config: string): Promise<string> {
  return (await import('./backup.js')).demoBackup(config);
}

/** The highest rowid of a table in the newest verified backup. */
export async function newestBackupMaxRowid(config: string, db: string, table: string): Promise<number | undefined> {
  return (await import('./backup.js')).newestBackupMaxRowid(config, db, table);
}
