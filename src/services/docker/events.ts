// Docker's events stream, as a "has the container list changed?" flag (issue #27: the console listed
// every container at every refresh to find out; one concern of the Docker facade).

import type { DockerEndpoint } from './endpoint.js';
import { openJsonLines, type JsonLineStream } from './transport.js';

/**
 * Actions that do not change what the console shows of a container: a health check's probe is an
 * exec (exec_create, exec_start, exec_die at every probe interval); top, attach, resize, archive
 * reads and writes, export and commit leave its state alone. Every other action (create, start,
 * die, kill, stop, restart, destroy, pause, unpause, rename, update, oom, health_status: …) counts.
 */
const QUIET = /^(exec_|top$|attach$|detach$|resize$|archive-path$|extract-to-dir$|export$|copy$|commit$)/;

/** Whether an event (as the engine sends it) may change the container list. */
export function changesList(e: unknown): boolean {
  const ev = e as { Type?: string; Action?: string; status?: string } | null;
  if (!ev || (ev.Type !== undefined && ev.Type !== 'container')) return false;
  const action = ev.Action ?? ev.status ?? '';
  return !QUIET.test(action);
}

/**
 * Follows one engine's `/events` (type=container) and says whether a list taken earlier may be stale:
 * while the stream is not open (never opened, lost, refused), it always is; once open, until an
 * event that changes a container arrives after the list started. `ensure` opens it (again, after a
 * loss: the caller calls it at each refresh, so a daemon that comes back resumes the stream at the
 * next refresh). An opened stream marks the list stale (what happened before it opened is not known).
 */
export class ContainerEvents {
  private stream: JsonLineStream | undefined;
  private state: 'off' | 'opening' | 'open' = 'off';
  private changed = true;
  private closed = false;
  /** How many times the stream was opened and lost (tests, diagnostics). */
  opened = 0;
  lost = 0;
  /** Why the stream last ended. */
  lastEnd?: string;

  constructor(
    private readonly endpoint: DockerEndpoint,
    private readonly openTimeoutMs: number,
    /** Only one compose project's containers (the list's own filter). */
    private readonly composeProject?: string,
  ) {}

  /** Opens the stream unless it is open or opening. False when this engine cannot stream (TLS, ssh://). */
  ensure(): boolean {
    if (this.closed) return false;
    if (this.state !== 'off') return true;
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], ...(this.composeProject ? { label: [`com.docker.compose.project=${this.composeProject}`] } : {}) }));
    this.state = 'opening';
    const s = openJsonLines(this.endpoint, `/events?filters=${filters}`, this.openTimeoutMs, {
      onOpen: () => {
        this.state = 'open';
        this.changed = true;
        this.opened++;
      },
      onLine: (e) => {
        if (changesList(e)) this.changed = true;
      },
      onEnd: (why) => {
        if (this.state === 'open') this.lost++;
        this.state = 'off';
        this.changed = true;
        this.stream = undefined;
        this.lastEnd = why;
      },
    });
    if (!s) {
      this.state = 'off';
      return false;
    }
    this.stream = s;
    return true;
  }

  /** Whether the stream is open (its events are being heard). */
  get open(): boolean {
    return this.state === 'open';
  }

  /** True when a list taken before now may be stale: the stream is not open, or a change was heard since `listing()`. */
  stale(): boolean {
    return this.state !== 'open' || this.changed;
  }

  /** Call as a list starts: changes heard from now on make it stale again. */
  listing(): void {
    this.changed = false;
  }

  /** Ends the stream for good. */
  close(): void {
    this.closed = true;
    this.stream?.close();
    this.stream = undefined;
    this.state = 'off';
  }
}
