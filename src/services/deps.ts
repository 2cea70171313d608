// Dependency and update checks of an application's folder (issue #23): outdated and vulnerable
// packages from the package managers present — npm (`npm outdated --json`, `npm audit --json`) for
// a package.json, pip (`pip list --outdated --format json`, `pip-audit` when installed) for
// requirements.txt / pyproject.toml. Offline (the registry cannot be reached) is a result that says
// so, not a failure. Tools run without a shell, in the folder, with a time-out.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Severities as npm names them; pip-audit gives none (counted as unknown). */
export const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info', 'unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One package manager's findings in one folder. */
export interface DepsReport {
  manager: 'npm' | 'pip';
  dir: string;
  /** The registry could not be reached: nothing below is known. */
  offline?: string;
  /** A tool is missing or failed otherwise. */
  error?: string;
  outdated: { name: string; current?: string; wanted?: string; latest?: string }[];
  vulnerabilities: Record<Severity, number>;
  /** Whether the vulnerability scan ran (pip: only with pip-audit installed). */
  audited: boolean;
}

const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|Failed to establish a new connection|NewConnectionError|Could not fetch|network (?:request|error)|request to .* failed/i;

/** Runs a tool without a shell; never throws (a missing tool is exit -1 with its error). */
export function runTool(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let child;
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    } catch (e) {
      resolve({ code: -1, stdout: '', stderr: (e as Error).message });
      return;
    }
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ code: -1, stdout, stderr: e.code === 'ENOENT' ? `${cmd} is not installed` : e.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}\n${cmd} killed after ${timeoutMs} ms` : stderr }));
  });
}

const zero = (): Record<Severity, number> => ({ critical: 0, high: 0, moderate: 0, low: 0, info: 0, unknown: 0 });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const offlineOf = (r: { stdout: string; stderr: string }): string | undefined => {
  const m = OFFLINE.exec(`${r.stderr}\n${r.stdout}`);
  return m ? `the package registry cannot be reached (${m[0]})` : undefined;
};

// npm retries a refused fetch with back-off for over a minute by default: one quick retry is enough
// to tell offline from a blip.
const NPM_NET = ['--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=2000'];

/** npm's findings in a folder with a package.json. */
async function npmReport(dir: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<DepsReport> {
  const rep: DepsReport = { manager: 'npm', dir, outdated: [], vulnerabilities: zero(), audited: false };
  const out = await runTool('npm', ['outdated', '--json', ...NPM_NET], dir, timeoutMs, env);
  if (out.code === -1 && /not installed/.test(out.stderr)) return { ...rep, error: 'npm is not installed' };
  const off = offlineOf(out);
  if (off) return { ...rep, offline: off };
  const doc = parseJson(out.stdout || '{}');
  if (doc && typeof doc === 'object' && 'error' in doc) {
    const e = (doc as { error: { code?: string; summary?: string } }).error;
    return OFFLINE.test(`${e.code ?? ''} ${e.summary ?? ''}`) ? { ...rep, offline: `the package registry cannot be reached (${e.code ?? e.summary ?? ''})` } : { ...rep, error: `npm outdated: ${e.summary ?? e.code ?? 'failed'}` };
  }
  if (doc && typeof doc === 'object') {
    for (const [name, v] of Object.entries(doc as Record<string, { current?: string; wanted?: string; latest?: string }>)) {
      rep.outdated.push({ name, ...(v.current ? { current: v.current } : {}), ...(v.wanted ? { wanted: v.wanted } : {}), ...(v.latest ? { latest: v.latest } : {}) });
    }
  }
  const audit = await runTool('npm', ['audit', '--json', ...NPM_NET], dir, timeoutMs, env);
  const aoff = offlineOf(audit);
  if (aoff) return { ...rep, offline: aoff };
  const a = parseJson(audit.stdout) as { metadata?: { vulnerabilities?: Partial<Record<Severity, number>> }; error?: { code?: string; summary?: string } } | undefined;
  if (a?.error) return OFFLINE.test(`${a.error.code ?? ''} ${a.error.summary ?? ''}`) ? { ...rep, offline: `the package registry cannot be reached (${a.error.code ?? ''})` } : { ...rep, error: `npm audit: ${a.error.summary ?? a.error.code ?? 'failed'}` };
  const v = a?.metadata?.vulnerabilities;
  if (v) {
    for (const s of SEVERITIES) rep.vulnerabilities[s] = v[s] ?? 0;
    rep.audited = true;
  }
  return rep;
}

/** pip's findings for a folder with requirements.txt or pyproject.toml. */
async function pipReport(dir: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<DepsReport> {
  const rep: DepsReport = { manager: 'pip', dir, outdated: [], vulnerabilities: zero(), audited: false };
  const out = await runTool('pip', ['list', '--outdated', '--format', 'json', '--disable-pip-version-check'], dir, timeoutMs, env);
  if (out.code === -1 && /not installed/.test(out.stderr)) return { ...rep, error: 'pip is not installed' };
  const off = offlineOf(out);
  if (off) return { ...rep, offline: off };
  const list = parseJson(out.stdout);
  if (!Array.isArray(list)) return { ...rep, error: `pip list: ${out.stderr.trim().split('\n').pop() ?? 'failed'}` };
  for (const p of list as { name: string; version?: string; latest_version?: string }[]) rep.outdated.push({ name: p.name, ...(p.version ? { current: p.version } : {}), ...(p.latest_version ? { latest: p.latest_version } : {}) });
  const req = join(dir, 'requirements.txt');
  const audit = await runTool('pip-audit', ['-f', 'json', ...(existsSync(req) ? ['-r', req] : [])], dir, timeoutMs, env);
  if (audit.code === -1) return rep; // pip-audit not installed: outdated only
  const aoff = offlineOf(audit);
  if (aoff) return { ...rep, offline: aoff };
  const doc = parseJson(audit.stdout) as { dependencies?: { vulns?: unknown[] }[] } | undefined;
  if (doc?.dependencies) {
    rep.vulnerabilities.unknown = doc.dependencies.reduce((n, d) => n + (d.vulns?.length ?? 0), 0);
    rep.audited = true;
  }
  return rep;
}

/** The reports of every package manager present in `dir`. */
export async function checkDependencies(dir: string, o: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DepsReport[]> {
  const t = o.timeoutMs ?? 120_000;
  const out: DepsReport[] = [];
  if (existsSync(join(dir, 'package.json'))) out.push(await npmReport(dir, t, o.env));
  if (['requirements.txt', 'pyproject.toml', 'setup.py'].some((f) => existsSync(join(dir, f)))) out.push(await pipReport(dir, t, o.env));
  return out;
}
