// Reading what the daily log review (issue #23) counts: a service's container log since a time
// (through the Docker facade) and a configured log file's lines since that time. The counting and
// grouping are src/domain/log-review.ts; nothing here throws: a source that cannot be read says why.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Config } from '../config/schema.js';
import { LogReviewer, type SourceReview } from '../domain/log-review.js';
import type { DockerService } from './docker.js';
import { containerOf, dockerForService } from './writers.js';

/** One source's review, or why it could not be read. */
export interface SourceOutcome {
  kind: 'service' | 'log';
  name: string;
  /** Where the lines came from (`container demo-api`, `/var/log/app.log`). */
  from: string;
  review?: SourceReview;
  error?: string;
}

// A line that starts with an ISO-like timestamp ("2026-12-02T03:04:05Z …", "[2026-12-02 03:04:05,123] …").
const LEADING_TS = /^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)/;

/** When a line says it was written (its leading timestamp), or undefined. */
export function lineTime(line: string): number | undefined {
  const c = line.charCodeAt(0);
  if (!(c === 91 || (c >= 48 && c <= 57))) return undefined; // '[' or a digit
  const m = LEADING_TS.exec(line);
  if (!m?.[1]) return undefined;
  const t = Date.parse(m[1].replace(',', '.'));
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Reviews a log file's lines written since `sinceMs`: a file last modified before is skipped whole;
 * lines are taken from the first one whose leading timestamp is at or after `sinceMs` (a log is
 * written in order); a file without timestamps is taken whole.
 */
export async function reviewFile(source: string, path: string, sinceMs: number): Promise<SourceReview> {
  const r = new LogReviewer(source);
  const st = await stat(path);
  if (st.mtimeMs < sinceMs) return r.result();
  let inWindow = false;
  const take = (line: string) => {
    if (!inWindow) {
      const t = lineTime(line);
      if (t !== undefined && t < sinceMs) return;
      inWindow = true;
    }
    r.add(line);
  };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const text = partial + decoder.write(chunk);
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
      take(text.charCodeAt(i - 1) === 13 ? text.slice(start, i - 1) : text.slice(start, i));
      start = i + 1;
    }
    partial = text.slice(start);
  }
  partial += decoder.end();
  if (partial) take(partial);
  return r.result();
}

/** Slices of a container's log, in whole lines, grouped between which the event loop runs (the console's keys stay live while it reviews, issue #23). */
const SLICE_CHARS = 1 << 20;

/** Takes a whole text in slices of whole lines, yielding to the event loop after each (~20 ms of grouping). */
export async function addInSlices(r: LogReviewer, text: string): Promise<void> {
  for (let start = 0; start < text.length; ) {
    const cut = start + SLICE_CHARS >= text.length ? -1 : text.indexOf('\n', start + SLICE_CHARS);
    const end = cut < 0 ? text.length : cut + 1;
    r.addText(text.slice(start, end));
    start = end;
    if (start < text.length) await new Promise((res) => setImmediate(res));
  }
}

/** The services with a container (by name or compose service) and the configured log files, each reviewed since `sinceMs`. */
export async function reviewSources(config: Config, docker: DockerService | undefined, sinceMs: number, only?: string): Promise<SourceOutcome[]> {
  const out: SourceOutcome[] = [];
  for (const s of config.services) {
    if (only && s.name !== only) continue;
    if (!s.container && !s.compose_service) continue;
    const source = `service:${s.name}`;
    // A service on a configured host (issue #25): its log is read from that host's engine.
    const d = config.hosts.some((h) => h.services.includes(s.name)) ? dockerForService(config, s.name) : docker;
    if (!d) {
      out.push({ kind: 'service', name: s.name, from: `container ${s.container ?? s.compose_service ?? ''}`, error: 'Docker is not configured' });
      continue;
    }
    let name: string;
    try {
      name = await containerOf(d, { service: s.name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) });
    } catch (e) {
      out.push({ kind: 'service', name: s.name, from: `compose service ${s.compose_service ?? ''}`, error: (e as Error).message });
      continue;
    }
    const got = await d.logsSince(name, Math.floor(sinceMs / 1000));
    if (!got.ok) {
      out.push({ kind: 'service', name: s.name, from: `container ${name}`, error: got.error.message });
      continue;
    }
    const r = new LogReviewer(source);
    await addInSlices(r, got.value);
    out.push({ kind: 'service', name: s.name, from: `container ${name}`, review: r.result() });
  }
  for (const l of config.logs) {
    if (only && l.name !== only) continue;
    try {
      out.push({ kind: 'log', name: l.name, from: l.path, review: await reviewFile(`log:${l.name}`, l.path, sinceMs) });
    } catch (e) {
      out.push({ kind: 'log', name: l.name, from: l.path, error: `${l.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
  }
  return out;
}
