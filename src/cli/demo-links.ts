// Where the demo meets the console (issue #3) and the backups (issue #4).
import type { GlobalOptions } from './output.js';

/** Opens the console on the demo's config. */
export async function openConsole(g: GlobalOptions): Promise<number> {
  return (await import('./console.js')).consoleCommand(g);
}
export function demoBackup(_config: string): Promise<string> {
  return Promise.reject(new Error('backups are not in this build yet'));
}
export function newestBackupMaxRowid(_config: string, _db: string, _table: string): Promise<number | undefined> {
  return Promise.resolve(undefined);
}
