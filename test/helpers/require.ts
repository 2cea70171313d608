import { execFileSync } from 'node:child_process';

const INSTALL = 'apt-get install -y docker.io busybox-static redis-server sqlite3 tmux';

/** Fails loudly (never skips) when a binary the real-service tests need is missing. */
export function requireBinary(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name} || ls /usr/sbin/${name} /sbin/${name} 2>/dev/null`], { encoding: 'utf8' })
      .trim()
      .split('\n')[0] as string;
  } catch {
    throw new Error(`${name} is not installed; the real-service tests need it. Run: ${INSTALL} (or bash .ci/run)`);
  }
}
