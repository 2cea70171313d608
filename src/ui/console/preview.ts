import { formatDuration } from '../../config/duration.js';
import type { ContainerInfo } from '../../domain/observations.js';
import type { ContainerVerb } from './reducer.js';

/** Preview of a container action: exactly what will happen. */
export function previewAction(action: ContainerVerb, c: ContainerInfo, now: number): string[] {
  const id = c.id.slice(0, 12);
  const on = c.host === undefined ? '' : ` on host ${c.host}`; // issue #25: the engine it lives on
  switch (action) {
    case 'restart':
      return [
        `Restart container ${c.name}${on} (${id}, image ${c.image})`,
        'Docker sends SIGTERM, waits up to 10 s, then SIGKILL, then starts it again (docker restart -t 10).',
        c.state === 'running' || c.state === 'restarting'
          ? `It is ${c.state}${c.startedAt ? `, up ${formatDuration(now - c.startedAt)}` : ''}; clients lose their connections meanwhile.`
          : `It is ${c.state}; the restart starts it.`,
      ];
    case 'stop':
      return [
        `Stop container ${c.name}${on} (${id}, image ${c.image})`,
        'Docker sends SIGTERM, waits up to 10 s, then SIGKILL (docker stop -t 10). It stays stopped until started.',
      ];
    case 'start':
      return [`Start container ${c.name}${on} (${id}, image ${c.image})`, `It is ${c.state}; Docker starts it with its existing configuration (docker start).`];
  }
}
