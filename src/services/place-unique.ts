import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import { Failure } from '../domain/errors.js';

/**
 * Moves a finished temp file to the first free name of `nameFor(1)`, `nameFor(2)`, … and returns
 * which one it took. Backup names carry a one-second time stamp: two backups within a second (a
 * schedule beside a `backup create`, or a fast machine) took the same name, and the second silently
 * replaced the first — with it what only the first held (seen in CI: a merge restore then found no
 * backup holding the lost trades). A hard link never replaces a file, so two processes cannot both
 * take one name; on a file system without hard links the name is looked at first, then renamed.
 * `taken(n)`: another sign that name `n` is in use (a backup's manifest).
 */
export function placeUnique(tmp: string, nameFor: (n: number) => string, taken: (n: number) => boolean = () => false): number {
  for (let n = 1; n <= 1000; n++) {
    const file = nameFor(n);
    if (taken(n)) continue;
    try {
      linkSync(tmp, file);
      rmSync(tmp, { force: true });
      return n;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
      if (existsSync(file)) continue;
      renameSync(tmp, file);
      return n;
    }
  }
  throw new Failure('busy', `${nameFor(1)}: a thousand files of the same name and second are already there`);
}
