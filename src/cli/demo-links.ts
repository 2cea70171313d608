// Where the demo meets the console (issue #3) and the backups (issue #4). WIP: wired when those land.
import { ExitError } from '../domain/errors.js';
import type { GlobalOptions } from './output.js';

export function openConsole(_g: GlobalOptions): Promise<number> {
  return Promise.reject(new ExitError(1, 'demo', 'the console is not in this build yet'));
}
export function demoBackup(_config: string): Promise<string> {
  return Promise.reject(new Error('backups are not in this build yet'));
}
export function newestBackupMaxRowid(_config: string, _db: string, _table: string): Promise<number | undefined> {
  return Promise.resolve(undefined);
}
