// node bench/docker-get.mjs — the Docker facade's raw GET over node:http next to dockerode, in one run,
// against a private engine with 50 idle containers (issue #15: keep the raw GET only with a measurement).
//
// 1. Cold: a fresh Node process that asks the engine for /version, by each path (what a console or a
//    `check` pays before its first Docker answer): wall time from process start, and RSS after it.
// 2. Warm: one poll as the console makes it (version + list + inspect of every container, 16 in flight),
//    by each path in the same process, interleaved: wall time and this process's CPU per poll.
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createIdle, median, startEngine } from './lib.mjs';

const CONTAINERS = 50;
const COLD_RUNS = 7;
const WARM_ROUNDS = 15;
const fmt = (n, d = 1) => n.toFixed(d).padStart(8);

/** A fresh process: import its client, GET /version once, print ms since process start and RSS. */
function cold(socket, via) {
  const script =
    via === 'raw'
      ? `import { request } from 'node:http';
         await new Promise((res, rej) => { const q = request({ socketPath: ${JSON.stringify(socket)}, path: '/version' }, (r) => { r.resume(); r.on('end', res); }); q.on('error', rej); q.end(); });`
      : via === 'dockerode'
        ? `const { default: Docker } = await import('dockerode');
           await new Docker({ socketPath: ${JSON.stringify(socket)}, timeout: 5000 }).version();`
        : '';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${script}\nconsole.log(JSON.stringify({ ms: performance.now(), rss: process.memoryUsage().rss }));`], {
    encoding: 'utf8',
    cwd: process.cwd(),
  });
  return JSON.parse(out.trim());
}

/** GET one JSON document over node:http (the facade's raw path, same agent settings). */
function getJson(agent, socket, path) {
  return new Promise((resolve, reject) => {
    const req = request({ agent, socketPath: socket, path, headers: { accept: 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function mapLimit(items, limit, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

async function poll(client) {
  await client.version();
  const list = await client.list();
  await mapLimit(list, 16, (c) => client.inspect(c.Id));
  return list.length;
}

const engine = await startEngine();
try {
  createIdle(engine.host, 'bench-get-', 0, CONTAINERS);
  await new Promise((r) => setTimeout(r, 2000));

  const runs = { none: [], raw: [], dockerode: [] };
  for (let i = 0; i < COLD_RUNS; i++) for (const via of ['none', 'raw', 'dockerode']) runs[via].push(cold(engine.socket, via));
  const row = (via) => ({ ms: median(runs[via].map((r) => r.ms)), mb: median(runs[via].map((r) => r.rss)) / 2 ** 20 });
  const [none, raw, dk] = [row('none'), row('raw'), row('dockerode')];
  console.log(`cold start: a fresh node process asking for /version (median of ${COLD_RUNS})`);
  console.log(`  ${'path'.padEnd(28)}${'ms'.padStart(8)}${'RSS MB'.padStart(8)}`);
  console.log(`  ${'node, no request'.padEnd(28)}${fmt(none.ms)}${fmt(none.mb)}`);
  console.log(`  ${'node:http GET (raw)'.padEnd(28)}${fmt(raw.ms)}${fmt(raw.mb)}`);
  console.log(`  ${'dockerode'.padEnd(28)}${fmt(dk.ms)}${fmt(dk.mb)}`);
  console.log(`  ${'dockerode − raw'.padEnd(28)}${fmt(dk.ms - raw.ms)}${fmt(dk.mb - raw.mb)}`);

  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const rawClient = {
    version: () => getJson(agent, engine.socket, '/version'),
    list: () => getJson(agent, engine.socket, '/containers/json?all=1'),
    inspect: (id) => getJson(agent, engine.socket, `/containers/${id}/json`),
  };
  const { default: Docker } = await import('dockerode');
  const d = new Docker({ socketPath: engine.socket, timeout: 5000 });
  const dkClient = {
    version: () => d.version(),
    list: () => d.listContainers({ all: true }),
    inspect: (id) => d.getContainer(id).inspect(),
  };
  const warm = { raw: [], dockerode: [] };
  for (let i = 0; i < 3; i++) {
    await poll(rawClient);
    await poll(dkClient);
  }
  for (let i = 0; i < WARM_ROUNDS; i++) {
    for (const [name, client] of i % 2 ? [['raw', rawClient], ['dockerode', dkClient]] : [['dockerode', dkClient], ['raw', rawClient]]) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const n = await poll(client);
      const cpu = process.cpuUsage(c0);
      if (n !== CONTAINERS) throw new Error(`listed ${n} containers, expected ${CONTAINERS}`);
      warm[name].push({ ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 });
    }
  }
  agent.destroy();
  const w = (name) => ({ ms: median(warm[name].map((r) => r.ms)), cpu: median(warm[name].map((r) => r.cpu)) });
  const [wr, wd] = [w('raw'), w('dockerode')];
  console.log(`\nwarm poll: version + list + ${CONTAINERS} inspects, 16 in flight (median of ${WARM_ROUNDS}, interleaved)`);
  console.log(`  ${'path'.padEnd(28)}${'ms'.padStart(8)}${'CPU ms'.padStart(8)}`);
  console.log(`  ${'node:http GET (raw)'.padEnd(28)}${fmt(wr.ms)}${fmt(wr.cpu)}`);
  console.log(`  ${'dockerode'.padEnd(28)}${fmt(wd.ms)}${fmt(wd.cpu)}`);
  console.log(`  ${'dockerode / raw'.padEnd(28)}${fmt(wd.ms / wr.ms, 2)}${fmt(wd.cpu / wr.cpu, 2)}`);
} finally {
  await engine.stop();
}
