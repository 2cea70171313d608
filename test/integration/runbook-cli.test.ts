import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';

// `opsdeck runbook` end to end (issue #16), on real processes and files: a dry run runs nothing;
// retries wait their backoff; on_failure rollback undoes in reverse; kill -9 then resume runs
// exactly the remaining steps; hostile values stay one literal argument (and one literal word in a
// shell step); unsafe runbook folders and files are refused.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-rbcli-'));
const rb = join(dir, 'rb');
mkdirSync(rb, { mode: 0o700 });
chmodSync(rb, 0o700);
const config = join(dir, 'opsdeck.yaml');
writeFileSync(
  config,
  `name: t\nstate_dir: state\nrunbooks:\n  dir: rb\nservices:\n  - name: web\n    health_url: http://127.0.0.1:9/health\n    stop_command: "rm -f ${dir}/web-up"\n    start_command: "touch ${dir}/web-up"\n` +
    `  - name: web2\n    stop_command: "true"\n    start_command: "true"\nfailover:\n  pairs:\n    - {name: webpair, primary: web, backup: web2}\n` +
    `redis:\n  - name: cache\n    url: redis://127.0.0.1:9\n    stop_command: "true"\n    start_command: "true"\n` +
    `databases:\n  - name: ledger\n    path: ledger.db\n    writers: [web]\n` +
    `apps:\n  - name: shop\n    dir: .\n    services: [web]\n    migrate:\n      current: [echo, "0001"]\n      history: [echo, "0001"]\n      heads: [echo, "0001"]\n      upgrade: [echo, up, "{{revision}}"]\n      downgrade: [echo, down, "{{revision}}"]\n`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runbook(name: string, body: string): void {
  const file = join(rb, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: ${name}\ntarget: none\n${body}`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
const cli = (args: string[], timeoutMs = 30_000) => runCli(['--config', config, ...args], { timeoutMs });
const sh = (script: string) => JSON.stringify(['/bin/sh', '-c', script]);

describe('opsdeck runbook', () => {
  it('lists built-ins and user runbooks; a user runbook with a built-in name replaces it and says so', async () => {
    runbook('service-recovery', `steps:\n  - id: one\n    title: one\n    why: a test.\n    exec: ["/bin/true"]\n`);
    const r = await cli(['runbook', 'list', '--json']);
    expect(r.stderr).toBe('');
    const list = (JSON.parse(r.stdout) as { runbooks: { name: string; source: string; replaces: boolean }[] }).runbooks;
    expect(list.find((x) => x.name === 'service-recovery')).toMatchObject({ source: 'user', replaces: true });
    expect(list.find((x) => x.name === 'restore-database')).toMatchObject({ source: 'built-in', replaces: false });
    const text = await cli(['runbook', 'list']);
    expect(text.stdout).toMatch(/service-recovery\s+none\s+user \(replaces built-in\)/);
    rmSync(join(rb, 'service-recovery.yaml'));
  });

  it('every built-in runbook is valid, names only known actions, and previews every step for a target', async () => {
    const list = (JSON.parse((await cli(['runbook', 'list', '--json'])).stdout) as { runbooks: { name: string; source: string }[] }).runbooks.filter((x) => x.source === 'built-in');
    expect(list.map((x) => x.name).sort()).toEqual(['api-degraded', 'app-update', 'daily-check', 'db-migrate', 'db-repair', 'disk-pressure', 'failback', 'full-system-recovery', 'monthly-maintenance', 'recovery-verify', 'redis-recovery', 'restore-database', 'service-recovery', 'weekly-maintenance']);
    const each = async (name: string) => {
      const show = await cli(['runbook', 'show', name]);
      expect(show.stderr, name).toBe('');
      if (name === 'restore-database') return; // the restore's own steps: its dry run is restore --dry-run's
      const args = name === 'redis-recovery' ? ['--target', 'cache'] : name === 'disk-pressure' ? ['--target', dir] : name === 'app-update' || name === 'db-migrate' ? ['--target', 'shop'] : name === 'db-repair' ? ['--target', 'ledger'] : name === 'full-system-recovery' ? [] : ['--target', 'web'];
      const dry = await cli(['runbook', 'run', name, ...args, '--dry-run', '--json']);
      expect(dry.stderr, name).toBe('');
      const steps = (JSON.parse(dry.stdout) as { steps: { preview: string }[] }).steps;
      expect(steps.length, name).toBeGreaterThan(2);
      for (const s of steps) expect(s.preview, name).not.toMatch(/^\(cannot preview/);
    };
    // 27 runs of the CLI (the routines' previews read the host), three runbooks at a time: one
    // after another they were ~20 s of this file, most of it each process starting up.
    const queue = list.map((x) => x.name);
    await Promise.all([0, 1, 2].map(async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) await each(name);
    }));
  }, 180_000);

  it('a dry run shows every step exactly and runs nothing (a marker command proves it)', async () => {
    const marker = join(dir, 'dry-marker');
    runbook('dry', `steps:\n  - id: touch\n    title: make the marker\n    why: proves a dry run runs nothing.\n    exec: ["/usr/bin/touch", "${marker}"]\n`);
    const r = await cli(['runbook', 'run', 'dry', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`does: run: /usr/bin/touch ${marker} (at most 60 s)`);
    expect(existsSync(marker)).toBe(false);
  });

  it('a --param the runbook never reads is refused in one line naming the ones it does (a typo is not ignored)', async () => {
    const marker = join(dir, 'param-marker');
    runbook('typo', `steps:\n  - id: touch\n    title: make {{param.revision | head}}\n    why: reads one parameter.\n    exec: ["/usr/bin/touch", "${marker}"]\n`);
    const r = await cli(['runbook', 'run', 'typo', '--yes', '--param', 'revison=v2']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim()).toBe('opsdeck: --param revison: typo reads no such parameter (expected one of: revision)');
    expect(existsSync(marker)).toBe(false);
    expect((await cli(['runbook', 'run', 'typo', '--yes', '--param', 'revision=v2'])).code).toBe(0);
  });

  it('a step that fails twice then succeeds is retried with its backoff, each attempt journaled', async () => {
    const counter = join(dir, 'count');
    runbook('flaky', `steps:\n  - id: flaky\n    title: fails twice\n    why: shows the retry.\n    exec: ${sh(`n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`)}\n    on_failure: { retry: { attempts: 3, backoff: 400ms, factor: 2 } }\n`);
    const t0 = Date.now();
    const r = await cli(['runbook', 'run', 'flaky', '--yes', '--json']);
    const took = Date.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');
    // 400 ms before the 2nd attempt, 800 ms before the 3rd.
    expect(took).toBeGreaterThanOrEqual(1200);
    const doc = JSON.parse(r.stdout) as { run: string; status: string; steps: { status: string; attempt?: number }[] };
    expect(doc).toMatchObject({ status: 'completed', steps: [{ status: 'done', attempt: 3 }] });
    const st = await cli(['runbook', 'status', doc.run]);
    expect(st.stdout).toMatch(/fails twice: done in .* \(attempt 3\)/);
  });

  it('a failing step with on_failure rollback undoes the earlier steps in reverse and closes the run', async () => {
    const log = join(dir, 'undo-log');
    const step = (id: string) =>
      `  - id: ${id}\n    title: step ${id}\n    why: writes ${id}.\n    exec: ${sh(`echo ${id} >> ${log}`)}\n    undo: { action: exec, params: { argv: ${sh(`echo undo-${id} >> ${log}`)} } }\n`;
    runbook('undoes', `steps:\n${step('a')}${step('b')}  - id: c\n    title: step c\n    why: fails.\n    exec: ["/bin/false"]\n    on_failure: rollback\n`);
    const r = await cli(['runbook', 'run', 'undoes', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/undoes \(run undoes-\S+\) stopped and closed; undone:/);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['a', 'b', 'undo-b', 'undo-a']);
    // runbook status says the steps that ran were undone (their states still read "done").
    const run = /\(run (undoes-\S+)\)/.exec(r.stderr)?.[1] as string;
    const st = await cli(['runbook', 'status', run]);
    expect(st.stdout).toMatch(/— failed, its started steps undone/);
    expect(st.stdout).toMatch(/ 1\. step a: done in \d+ms — UNDONE: /);
    expect((await cli(['runbook', 'status'])).stdout).toMatch(new RegExp(`${run} +undoes +undoes +failed \\(undone\\)`));
    const open = await cli(['runbook', 'resume', '--yes']);
    expect(open.stderr).toMatch(/no unfinished runbook run/);
  });

  it('kill -9 in the middle of a step, then resume: exactly the remaining steps run (the interrupted one again)', async () => {
    const mark = (n: number) => join(dir, `k${n}`);
    const pidFile = join(dir, 'k2.pid');
    runbook(
      'killed',
      `steps:\n  - id: s1\n    title: one\n    why: first.\n    exec: ${sh(`echo run >> ${mark(1)}`)}\n    undo: { action: exec, params: { argv: [echo, "undo {{param.who | nobody}}"] } }\n` +
        `  - id: s2\n    title: two\n    why: is killed the first time.\n    exec: ${sh(`if [ -f ${mark(2)} ]; then echo again >> ${mark(2)}; else echo first >> ${mark(2)}; echo $$ > ${pidFile}; exec sleep 30; fi`)}\n` +
        `  - id: s3\n    title: three\n    why: last.\n    exec: ${sh(`echo run >> ${mark(3)}`)}\n`,
    );
    const child = spawn(process.execPath, [CLI, '--config', config, 'runbook', 'run', 'killed', '--yes'], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 50));
    expect(existsSync(pidFile)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((res) => child.on('close', res));
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const st = await cli(['runbook', 'status', '--json']);
    const open = (JSON.parse(st.stdout) as { runs: { run: string; runbook: string; status: string }[] }).runs.find((x) => x.runbook === 'killed');
    expect(open?.status).toBe('open');
    const check = await cli(['check', '--json']);
    expect(check.stdout).toContain('journal:killed:killed');
    expect(open?.run).toBeDefined();
    // Dry runs of both ways on: the plan, nothing run.
    const dryBack = await cli(['runbook', 'rollback', '--check', 'journal:killed:killed', '--dry-run']);
    // The undo as the run rendered it: the target's name, never a `{{…}}` template.
    expect(dryBack.stdout).toMatch(/^rollback of killed-\S+ \(killed on killed\) — dry run, nothing is run:\n 1\. two: no undo: its effect stays\n 2\. one: undo: exec \{"argv":\["echo","undo nobody"\]\}\n$/);
    // A dry run of a new run says the real one would be refused while this one is unfinished.
    const dryNew = await cli(['runbook', 'run', 'killed', '--dry-run']);
    expect(dryNew.stdout).toMatch(/WARNING: run killed-\S+ of killed is unfinished: a real run is refused until it is resumed \(opsdeck --config \S+ runbook resume killed-\S+\) or undone/);
    const dryOn = await cli(['runbook', 'resume', '--check', 'journal:killed:killed', '--dry-run']);
    expect(dryOn.stdout).toMatch(/ 1\. two: runs again \(it was running when the run stopped\)\n 2\. three: runs\n$/);
    // The console's F on the finding resumes by its check id (journal:<runbook>:<subject>).
    const r = await cli(['runbook', 'resume', '--check', 'journal:killed:killed', '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(mark(1), 'utf8')).toBe('run\n');
    expect(readFileSync(mark(2), 'utf8')).toBe('first\nagain\n');
    expect(readFileSync(mark(3), 'utf8')).toBe('run\n');
  });

  it('a value holding ; touch, $(…), backticks and a newline reaches the program as one literal argument, and stays literal in a shell: true step', async () => {
    const evil = `x; touch ${dir}/pwn1 $(touch ${dir}/pwn2) \`touch ${dir}/pwn3\`\ntouch ${dir}/pwn4 'q'`;
    const out1 = join(dir, 'argv-out');
    const out2 = join(dir, 'shell-out');
    runbook(
      'hostile',
      `steps:\n  - id: argv\n    title: argv\n    why: one argument.\n    exec: ["/bin/sh", "-c", "printf '%s|%s' \\"$1\\" \\"$#\\" > \\"$2\\"", "sh", "{{param.evil}}", "${out1}"]\n` +
        `  - id: shell\n    title: shell\n    why: one word.\n    shell: true\n    exec: "printf '%s' {{param.evil}} > ${out2}"\n`,
    );
    const dry = await cli(['runbook', 'run', 'hostile', '--dry-run', '--param', `evil=${evil}`]);
    // The preview shows the exact shell line: the value single-quoted.
    expect(dry.stdout).toContain(`run in /bin/sh -c: printf '%s' 'x; touch ${dir}/pwn1`);
    const r = await cli(['runbook', 'run', 'hostile', '--yes', '--param', `evil=${evil}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out1, 'utf8')).toBe(`${evil}|2`);
    expect(readFileSync(out2, 'utf8')).toBe(evil);
    for (const n of [1, 2, 3, 4]) expect(existsSync(join(dir, `pwn${n}`))).toBe(false);
  });

  it('stopped before any step changed something: closed, and said to have nothing to resume (not "paused")', async () => {
    const file = join(dir, 'look-first.yaml');
    writeFileSync(file, `name: look-first\ntitle: look first\ntarget: none\nsteps:\n  - id: look\n    title: a person looks\n    why: before anything runs.\n    action: manual\n    skippable: false\n    params: { instruction: look at it }\n  - id: act\n    title: act\n    why: after.\n    exec: ["/bin/true"]\n`, { mode: 0o600 });
    const r = await cli(['runbook', 'run', file, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/look-first \(run look-first-\S+\) stopped \(declined "a person looks"\); nothing was changed, so there is nothing to resume: start it again from its first step when ready/);
    const st = JSON.parse((await cli(['runbook', 'status', '--json'])).stdout) as { runs: { runbook: string; status: string }[] };
    expect(st.runs.find((x) => x.runbook === 'look-first')?.status).not.toBe('open');
  });

  it('run FILE: a runbook written during an incident runs from its path; its open run is rolled back from the same file', async () => {
    const file = join(dir, 'fix-now.yaml');
    const marker = join(dir, 'fixed');
    writeFileSync(file, `name: fix-now\ntitle: fix now\ntarget: none\nsteps:\n  - id: fix\n    title: fix it\n    why: written at 3 a.m.\n    exec: ["/usr/bin/touch", "${marker}"]\n  - id: stop\n    title: a person checks\n    why: the operator stops here.\n    action: manual\n    skippable: false\n    params: { instruction: look at it }\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    // Unattended, the manual step stops the run: it stays open, and resumes from the same file.
    const r = await cli(['runbook', 'run', file, '--yes']);
    expect(r.code).toBe(1);
    expect(existsSync(marker)).toBe(true);
    expect(r.stderr).toMatch(/fix-now \(run fix-now-\S+\) paused \(declined "a person checks"\); continue with opsdeck --config \S+ runbook resume fix-now-/);
    const st = JSON.parse((await cli(['runbook', 'status', '--json'])).stdout) as { runs: { run: string; runbook: string; status: string }[] };
    const run = st.runs.find((x) => x.runbook === 'fix-now');
    expect(run?.status).toBe('open');
    const back = await cli(['runbook', 'rollback', run?.run ?? '', '--yes']);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
  });

  it('a --param holding a secret is stored redacted in the journal; resume and rollback ask for it again', async () => {
    const secret = 'rb-s3cret-value';
    const cfg = join(dir, 'secret.yaml');
    writeFileSync(cfg, `name: s\nstate_dir: state-secret\nrunbooks:\n  dir: rb\nredis:\n  - name: cache\n    url: redis://:\${RB_PW}@127.0.0.1:9\n`);
    runbook('secretive', `steps:\n  - id: use\n    title: use it\n    why: takes a secret.\n    exec: ["/bin/true", "{{param.pw}}"]\n  - id: wait\n    title: a person checks\n    why: stops here.\n    action: manual\n    skippable: false\n    params: { instruction: look }\n`);
    const env = { RB_PW: secret };
    const r = await runCli(['--config', cfg, 'runbook', 'run', 'secretive', '--yes', '--param', `pw=${secret}`], { env });
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
    const Db = (await import('better-sqlite3')).default;
    const db = new Db(join(dir, 'state-secret', 'state.db'), { readonly: true });
    const stored = JSON.stringify([db.prepare('SELECT * FROM runs').all(), db.prepare('SELECT * FROM run_steps').all(), db.prepare('SELECT * FROM run_events').all()]);
    db.close();
    expect(stored).toContain('secretive');
    expect(stored).not.toContain(secret);
    const again = await runCli(['--config', cfg, 'runbook', 'resume', '--yes'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--param pw held a secret, so the journal keeps it redacted; pass --param pw=… again/);
    const back = await runCli(['--config', cfg, 'runbook', 'rollback', '--yes', '--param', `pw=${secret}`], { env });
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    rmSync(join(rb, 'secretive.yaml'));
  });

  it('a runbook folder writable by the group, or a file another user owns, is refused (78)', async () => {
    chmodSync(rb, 0o770);
    const r = await cli(['runbook', 'list']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/runbooks\.dir: .*rb: writable by its group \(mode 770\); a runbook runs commands as you/);
    chmodSync(rb, 0o700);
    runbook('foreign', `steps:\n  - id: one\n    title: one\n    why: a test.\n    exec: ["/bin/true"]\n`);
    chownSync(join(rb, 'foreign.yaml'), 65534, 65534);
    const f = await cli(['runbook', 'list']);
    expect(f.code).toBe(78);
    expect(f.stderr).toMatch(/foreign\.yaml: owned by uid 65534, not by the user running opsdeck/);
    rmSync(join(rb, 'foreign.yaml'));
    const other = join(dir, 'loose.yaml');
    writeFileSync(other, `name: loose\ntitle: loose\ntarget: none\nsteps:\n  - id: one\n    title: one\n    why: a test.\n    exec: ["/bin/true"]\n`, { mode: 0o666 });
    chmodSync(other, 0o666);
    const loose = await cli(['runbook', 'run', other, '--yes']);
    expect(loose.code).toBe(78);
    expect(loose.stderr).toMatch(/loose\.yaml: writable by its group \(mode 666\)/);
  });

  it('a bad runbook file is one line naming the file, the field and what was expected (78)', async () => {
    runbook('bad', `steps:\n  - id: one\n    title: one\n    why: a test.\n    action: launch-missiles\n`);
    const r = await cli(['runbook', 'show', 'bad']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/bad\.yaml: steps\[0\]\.action: unknown action "launch-missiles" \(expected one of: .*exec.*service\.restart/);
    runbook('bad', `steps:\n  - id: one\n    title: one\n    why: a test.\n    exec: "rm -rf {{param.x}}"\n`);
    const s = await cli(['runbook', 'list']);
    expect(s.code).toBe(78);
    expect(s.stderr).toMatch(/bad\.yaml: steps\[0\]\.exec: expected a list of arguments .* a text is run by \/bin\/sh only with shell: true/);
    rmSync(join(rb, 'bad.yaml'));
  });

  it('over the console protocol: progress after every transition, the failure question (y tries again), s skips, n stops', async () => {
    const counter = join(dir, 'proto-count');
    runbook(
      'proto',
      `steps:\n  - id: once\n    title: fails once\n    why: asks after a failure.\n    exec: ${sh(`n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 2 ]`)}\n` +
        `  - id: skipme\n    title: skipped\n    why: the operator skips it.\n    exec: ["/bin/true"]\n` +
        `  - id: last\n    title: never runs\n    why: the operator stops before it.\n    exec: ["/bin/true"]\n`,
    );
    const answers = ['y', 'y', 's', 'n'];
    const asked: string[] = [];
    const progress: { steps: { id: string; status: string }[] }[] = [];
    const child = spawn(process.execPath, [CLI, '--config', config, 'runbook', 'run', 'proto', '--protocol'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const { createInterface } = await import('node:readline');
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ask?: string; choices?: string; progress?: { steps: { id: string; status: string }[] } };
      if (m.progress) progress.push(m.progress);
      if (m.ask) {
        asked.push(`${m.ask} [${m.choices ?? ''}]`);
        child.stdin.write(`${answers.shift() ?? 'n'}\n`);
      }
    });
    const code = await new Promise((res) => child.on('close', res));
    expect(code).toBe(1);
    // A step that changes something ran: the run stays open (paused), with how to go on or undo it.
    expect(stderr).toMatch(/proto \(run proto-\S+\) paused \(declined "never runs"\); continue with opsdeck --config \S+ runbook resume proto-\S+, or undo with/);
    expect(asked).toEqual(['run this step? y runs it · s skips it · n stops the run here [yns]', 'fails once failed. y tries it again · s skips it · n stops here (resume later) [yns]', 'run this step? y runs it · s skips it · n stops the run here [yns]', 'run this step? y runs it · s skips it · n stops the run here [yns]']);
    const states = (i: number) => progress.map((p) => p.steps[i]?.status).filter((x, j, a) => x !== a[j - 1]);
    expect(states(0)).toEqual(['pending', 'confirming', 'running', 'done']);
    expect(states(1)).toEqual(['pending', 'confirming', 'skipped']);
    expect(states(2)).toEqual(['pending', 'confirming', 'pending']);
  });

  it('--read-only refuses a run (audited) but previews it with --dry-run', async () => {
    const r = await runCli(['--config', config, '--read-only', 'runbook', 'run', 'dry', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused in --read-only mode/);
    const d = await runCli(['--config', config, '--read-only', 'runbook', 'run', 'dry', '--dry-run']);
    expect(d.code).toBe(0);
  });
});
