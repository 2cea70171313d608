import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.js';
import { requireBinary } from './require.js';

// A real Prometheus Alertmanager on loopback (issue #25; Debian's prometheus-alertmanager, started
// here with a temporary storage folder and no cluster), its routes sending every notification to a
// webhook receiver of the test (`hook`: group_wait / group_interval 1 s, send_resolved), so a test
// sees what Alertmanager itself decided (firing, resolved), not only what it holds.

/** One alert as `GET /api/v2/alerts` answers it. */
export interface AmApiAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL?: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

/** A running Alertmanager; `url` is its base URL. */
export class AlertmanagerServer {
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';

  /** Starts it on a free port (tried again on another should the port be taken meanwhile), routes to `hookUrl`. */
  async start(hookUrl: string): Promise<this> {
    let bin: string;
    try {
      bin = requireBinary('prometheus-alertmanager');
    } catch {
      throw new Error('prometheus-alertmanager is not installed; the Alertmanager tests need it. Run: apt-get install -y --no-install-recommends prometheus-alertmanager (or bash .ci/run)');
    }
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-am-'));
    const config = join(dir, 'alertmanager.yml');
    writeFileSync(
      config,
      [
        'route:',
        '  receiver: hook',
        '  group_by: [alertname, id, host]',
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: "${hookUrl}"`,
        '        send_resolved: true',
        '',
      ].join('\n'),
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      this.log = '';
      const child = spawn(bin, [`--config.file=${config}`, `--storage.path=${join(dir, `data${attempt}`)}`, `--web.listen-address=127.0.0.1:${this.port}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
      this.child = child;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const ready = await fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
        if (ready) return this;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
    }
    throw new Error(`prometheus-alertmanager did not start: ${this.log}`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The alerts it holds (active, silenced, inhibited; resolved ones are not listed). */
  async alerts(): Promise<AmApiAlert[]> {
    const r = await fetch(`${this.url}/api/v2/alerts`);
    return (await r.json()) as AmApiAlert[];
  }

  /** Creates a silence of every alert whose labels equal these; its id. */
  async silence(matchers: Record<string, string>, createdBy: string, comment: string, forMs: number): Promise<string> {
    const now = Date.now();
    const r = await fetch(`${this.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: Object.entries(matchers).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })), startsAt: new Date(now).toISOString(), endsAt: new Date(now + forMs).toISOString(), createdBy, comment }),
    });
    const body = (await r.json()) as { silenceID?: string };
    if (!body.silenceID) throw new Error(`no silence created: ${JSON.stringify(body)}`);
    return body.silenceID;
  }

  /** Posts alerts as another sender would (Prometheus, another opsdeck). */
  async post(alerts: { labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string }[]): Promise<void> {
    const r = await fetch(`${this.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    if (!r.ok) throw new Error(`Alertmanager refused the alerts: HTTP ${r.status} ${await r.text()}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await done;
  }
}
