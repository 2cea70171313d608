// Which processes have a file open for writing (issue #23: the log cleanup never touches a file a
// process still writes). Found through /proc/<pid>/fd (device and inode, so processes in containers
// count too) and the access mode in /proc/<pid>/fdinfo/<fd> ("flags:" octal; O_ACCMODE 3: 1 write
// only, 2 read-write). Linux only; elsewhere it finds none and says so.

import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/** A process writing a file. */
export interface FileWriter {
  pid: number;
  command: string;
}

/** Whether /proc can be searched for open files here. */
export const canSeeOpenFiles = (): boolean => existsSync('/proc/self/fdinfo');

/** For each of `paths` (absolute) that a process other than this one has open for writing: that process. */
export function openForWriting(paths: readonly string[]): Map<string, FileWriter> {
  const byId = new Map<string, string>();
  for (const p of paths) {
    try {
      const st = statSync(p);
      byId.set(`${st.dev}:${st.ino}`, p);
    } catch {
      // gone meanwhile
    }
  }
  const found = new Map<string, FileWriter>();
  if (!byId.size || !canSeeOpenFiles()) return found;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // ended, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/')) continue; // sockets, pipes
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        const path = byId.get(`${st.dev}:${st.ino}`);
        if (!path || found.has(path)) continue;
        const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (flags === undefined || (parseInt(flags, 8) & 3) === 0) continue; // read only
        let command = '';
        try {
          command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 80);
        } catch {
          // ended meanwhile
        }
        found.set(path, { pid: Number(pid), command });
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return found;
}
