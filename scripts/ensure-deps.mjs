// Makes sure the real services the tests use are installed (docs/TESTING.md): a private
// Docker engine, busybox for its test image, redis-server, sqlite3, tmux, prometheus,
// prometheus-alertmanager, openssh-server. As root with apt-get it
// installs what is missing; otherwise it prints the exact command and fails — tests never skip.
import { execSync } from 'node:child_process';

const NEED = {
  dockerd: 'docker.io', docker: 'docker.io', busybox: 'busybox-static', 'redis-server': 'redis-server', sqlite3: 'sqlite3', tmux: 'tmux',
  // Issue #25: Prometheus scrapes `watch`, Alertmanager receives its alerts, sshd carries Docker's ssh:// transport.
  prometheus: 'prometheus', promtool: 'prometheus', 'prometheus-alertmanager': 'prometheus-alertmanager', sshd: 'openssh-server',
};
const has = (bin) => {
  try {
    execSync(`command -v ${bin} || test -x /usr/sbin/${bin}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
};
const missing = [...new Set(Object.entries(NEED).filter(([bin]) => !has(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);
const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
const root = process.getuid?.() === 0;
if (!root || !has('apt-get')) {
  console.error(`opsdeck tests need real services that are not installed: ${missing.join(', ')}.\nRun: sudo apt-get update && sudo ${cmd}`);
  process.exit(1);
}
console.error(`installing the test services: ${missing.join(' ')}`);
execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${cmd}`, { stdio: 'inherit', shell: '/bin/sh' });
