import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../domain/errors.js';
import { checkDependencies, SEVERITIES, type DepsReport } from '../services/deps.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';

/** Options of `opsdeck deps`. */
export interface DepsOptions extends GlobalOptions {
  app?: string;
  dir?: string;
}

/** "2 critical, 1 high" or "none". */
export function vulnText(r: DepsReport): string {
  const parts = SEVERITIES.filter((s) => r.vulnerabilities[s] > 0).map((s) => `${r.vulnerabilities[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The folders to scan: --dir, else the --app's folder, else every configured app's. */
export function depsFolders(config: ReturnType<typeof loadConfig>['config'], g: DepsOptions): { name: string; dir: string }[] {
  if (g.dir) return [{ name: g.dir, dir: resolve(g.dir) }];
  const apps = g.app ? config.apps.filter((a) => a.name === g.app) : config.apps;
  if (g.app && !apps.length) throw new UsageError(`deps: --app ${JSON.stringify(g.app)}: expected a configured app (${config.apps.map((a) => a.name).join(', ') || 'none configured'})`);
  return apps.map((a) => ({ name: a.name, dir: a.dir }));
}

/**
 * `opsdeck deps [--app NAME | --dir DIR] [--json]` (issue #23): outdated and vulnerable packages of
 * each configured app's folder (`apps[].dir`), by the package managers present, counted by severity.
 * Offline, it says so instead of failing. Exit 0; 1 when a critical or high vulnerability is found.
 */
export async function depsCommand(g: DepsOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const folders = depsFolders(loaded.config, g);
  const results = [];
  for (const f of folders) results.push({ ...f, reports: await checkDependencies(f.dir) });
  const serious = results.some((r) => r.reports.some((x) => x.vulnerabilities.critical + x.vulnerabilities.high > 0));
  if (g.json) {
    outJson({ folders: results });
    return serious ? 1 : 0;
  }
  if (!folders.length) out('deps: no folder to scan (configure apps[].dir, or pass --dir)');
  for (const r of results) {
    if (!r.reports.length) out(`${r.name} (${r.dir}): no package.json, requirements.txt or pyproject.toml`);
    for (const x of r.reports) {
      const head = `${r.name} ${x.manager} (${x.dir})`;
      if (x.offline) out(`${head}: offline — ${x.offline}; outdated and vulnerable packages not known`);
      else {
        out(`${head}: ${x.outdated.length} outdated; vulnerabilities: ${x.audited ? vulnText(x) : x.error ? `not scanned: ${x.error}` : 'not scanned (pip-audit is not installed)'}`);
        for (const o of x.outdated.slice(0, 20)) out(`  ${o.name.padEnd(30)} ${(o.current ?? '-').padStart(12)} → ${o.latest ?? o.wanted ?? '?'}`);
        if (x.outdated.length > 20) out(`  … ${x.outdated.length - 20} more`);
      }
    }
  }
  return serious ? 1 : 0;
}
