#!/usr/bin/env node
// Benchmark: the native runtime against Docker in one run, on the same stack
// (postgres, neo4j, temporal-schema, temporal, api, worker, web — `helfy up api worker web`).
//
//   node bench/runtimes.mjs [--rounds 3] [--idle 20] [--services api,worker,web] [--keep]
//
// Per runtime one workspace (`helfy init --yes`, free ports, HELFY_RUNTIME=docker|native; native
// with DOCKER_HOST at a dead socket so nothing can reach the engine). Setup, not timed: a first
// `helfy up` on each (Docker builds the api/web images unless they exist, native installs and
// builds the apps), then `helfy down`. Then alternating rounds (docker, native, docker, native…),
// only one stack running at a time:
//   helfy up  (timed; from the user's stopped state: after `helfy down` — Docker: images and
//              volumes present, containers removed; native: installed and built, data kept,
//              no process)
//   idle `--idle` s after healthy → sum of RSS (VmRSS from /proc/<pid>/status):
//     docker: every process of each project container (`docker top`), plus, separately, the
//             container shims and docker-proxy listeners of the project (the engine's own
//             dockerd/containerd are shared by every project and not counted)
//     native: every process of each supervisor group (state files .helfy/run/*.json: pid = pgid)
//   helfy down (timed)
// Medians, a table on stderr, the JSON on stdout and in bench/results/runtimes-<time>.json.
// RSS counts shared pages once per process (the JVM and node processes share little; both
// runtimes are measured the same way). `npm run build` first; Docker engine + stand-in images
// (infra/docker/images.sh) for the Docker side.
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, BIN, flag, images, median, REPO } from './stack-common.mjs';

const rounds = Number(arg('rounds', '3'));
const idleS = Number(arg('idle', '20'));
const apps = arg('services', 'api,worker,web').split(',').filter(Boolean);
const log = (m) => process.stderr.write(`${m}\n`);

/**
 * `n` free loopback ports below the kernel's ephemeral range (32768+ here) and below the
 * 20000–32767 range native Temporal picks its internal ports from: an ephemeral port that is
 * free now can be taken by any outgoing connection of the busy machine before the stack binds it.
 */
async function freePorts(n) {
  const out = [];
  while (out.length < n) {
    const port = 10000 + Math.floor(Math.random() * 10000);
    if (out.includes(port)) continue;
    const ok = await new Promise((res) => { const s = createServer(); s.once('error', () => res(false)); s.listen({ host: '127.0.0.1', port }, () => s.close(() => res(true))); });
    if (ok) out.push(port);
  }
  return out;
}

async function workspace(kind, extraEnv) {
  const name = `benchrt${kind[0]}${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), `helfy-bench-${name}-`));
  // As root the native PostgreSQL runs as `postgres`, which must get into the workspace.
  chmodSync(dir, 0o755);
  const env = { ...process.env, ...extraEnv, HELFY_TIMESCALE: 'optional', DOCKER_BUILDKIT: '0', CI: '1', NO_COLOR: '1' };
  const [pg, nh, nb, t, tu, api, web] = await freePorts(7);
  const ports = { pg, nh, nb, t, tu, api, web };
  const init = await execa('node', [BIN, 'init', dir, '--yes', '--name', name, '--postgres-port', pg, '--neo4j-http-port', nh, '--neo4j-bolt-port', nb, '--temporal-port', t, '--temporal-ui-port', tu, '--api-port', api, '--web-port', web].map(String), { env, reject: false });
  if (init.exitCode !== 0) throw new Error(init.stderr);
  const helfy = async (args) => {
    const t0 = performance.now();
    const r = await execa('node', [BIN, ...args], { cwd: dir, env, reject: false });
    return { ...r, ms: performance.now() - t0 };
  };
  return { kind, name, dir, env, ports, helfy };
}

function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone, or a kernel thread
  }
}

function procStat(pid) {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]) };
  } catch {
    return undefined;
  }
}

const allPids = () => readdirSync('/proc').filter((x) => /^\d+$/.test(x)).map(Number);

/** Native: every live process of each supervisor group (state file pid = the group id). */
function nativeRss(ws) {
  const run = join(ws.dir, '.helfy/run');
  const groups = new Map();
  for (const f of existsSync(run) ? readdirSync(run).filter((x) => x.endsWith('.json')) : []) {
    const st = JSON.parse(readFileSync(join(run, f), 'utf8'));
    groups.set(st.pid, st.name ?? f.replace(/\.json$/, ''));
  }
  const by = {};
  let processes = 0;
  for (const pid of allPids()) {
    const s = procStat(pid);
    if (!s || s.state === 'Z' || !groups.has(s.pgid)) continue;
    const svc = groups.get(s.pgid);
    by[svc] = (by[svc] ?? 0) + rssKiB(pid);
    processes++;
  }
  return { totalKiB: Object.values(by).reduce((a, b) => a + b, 0), byService: by, processes, overheadKiB: 0 };
}

/** Docker: the processes of each running container of the project (host pids from `docker top`). */
async function dockerRss(ws) {
  const ps = await execa('docker', ['ps', '--filter', `label=com.docker.compose.project=${ws.name}`, '--format', '{{.ID}}\t{{.Label "com.docker.compose.service"}}']);
  const by = {};
  let processes = 0;
  const inits = [];
  for (const line of ps.stdout.split('\n').filter(Boolean)) {
    const [id, svc] = line.split('\t');
    const top = await execa('docker', ['top', id, '-eo', 'pid'], { reject: false });
    const pids = top.stdout.split('\n').slice(1).map((l) => Number(l.trim())).filter((n) => n > 0);
    by[svc] = pids.reduce((a, p) => a + rssKiB(p), 0);
    processes += pids.length;
    const init = await execa('docker', ['inspect', '-f', '{{.State.Pid}}', id]);
    inits.push(Number(init.stdout.trim()));
  }
  // Per-project engine overhead: the shim of each container and the docker-proxy of each published port.
  const shims = new Set(inits.map((p) => procStat(p)?.ppid).filter((p) => p && p > 1));
  const ports = new Set(Object.values(ws.ports).map(String));
  let overheadKiB = 0;
  for (const pid of allPids()) {
    if (shims.has(pid)) { overheadKiB += rssKiB(pid); continue; }
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '); } catch { continue; }
    const m = /docker-proxy .*-host-port (\d+)/.exec(cmd);
    if (m && ports.has(m[1])) overheadKiB += rssKiB(pid);
  }
  return { totalKiB: Object.values(by).reduce((a, b) => a + b, 0), byService: by, processes, overheadKiB };
}

/** A failed up is retried once after `helfy down` (counted in the result: a shared, loaded machine). */
const retries = { docker: [], native: [] };
async function up(ws) {
  try {
    return await upOnce(ws);
  } catch (e) {
    retries[ws.kind].push(String(e.message).split('\n').slice(0, 6).join(' '));
    log(`${ws.kind}: up failed, retrying once after helfy down: ${String(e.message).slice(0, 400)}`);
    await ws.helfy(['down']);
    return upOnce(ws);
  }
}

async function upOnce(ws) {
  const r = await ws.helfy(['up', ...apps, '--timeout', '300s', '--json']);
  if (r.exitCode !== 0) throw new Error(`${ws.kind}: helfy up failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  const j = JSON.parse(r.stdout);
  const bad = j.services.filter((s) => !['healthy', 'completed'].includes(s.state));
  if (bad.length) throw new Error(`${ws.kind}: not healthy after up: ${JSON.stringify(bad)}`);
  return { ms: r.ms, json: j };
}

async function down(ws, extra = []) {
  const r = await ws.helfy(['down', ...extra]);
  if (r.exitCode !== 0) throw new Error(`${ws.kind}: helfy down failed:\n${r.stderr.slice(-2000)}`);
  return r.ms;
}

const dockerImages = await images();
const wss = {
  docker: await workspace('docker', { ...dockerImages, HELFY_RUNTIME: 'docker' }),
  native: await workspace('native', { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent' }),
};
const results = { docker: { upMs: [], downMs: [], rssKiB: [], overheadKiB: [], byService: [] }, native: { upMs: [], downMs: [], rssKiB: [], overheadKiB: [], byService: [] } };
const setup = {};
try {
  for (const kind of ['docker', 'native']) {
    log(`${kind}: first up (not timed: builds/installs what is missing)…`);
    const first = await up(wss[kind]);
    setup[kind] = { firstUpMs: Math.round(first.ms), built: first.json.built ?? null, runtime: first.json.runtime?.detail ?? first.json.runtime };
    log(`${kind}: first up ${(first.ms / 1000).toFixed(1)} s${first.json.built ? ` (built ${JSON.stringify(first.json.built.images ?? first.json.built)})` : ''}; ${setup[kind].runtime}`);
    await down(wss[kind]);
  }
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['docker', 'native']) {
      const ws = wss[kind];
      const u = await up(ws);
      await new Promise((r) => setTimeout(r, idleS * 1000));
      const rss = kind === 'docker' ? await dockerRss(ws) : nativeRss(ws);
      const d = await down(ws);
      const R = results[kind];
      R.upMs.push(u.ms); R.downMs.push(d); R.rssKiB.push(rss.totalKiB); R.overheadKiB.push(rss.overheadKiB); R.byService.push(rss.byService);
      log(`round ${i + 1} ${kind.padEnd(6)} up ${(u.ms / 1000).toFixed(2)} s  idle RSS ${(rss.totalKiB / 1024).toFixed(0)} MiB (${rss.processes} processes${rss.overheadKiB ? `, + ${(rss.overheadKiB / 1024).toFixed(0)} MiB shims/proxies` : ''})  down ${(d / 1000).toFixed(2)} s`);
    }
  }
} finally {
  if (!flag('keep')) {
    for (const ws of Object.values(wss)) {
      await ws.helfy(['down', '--volumes', '--yes']);
      rmSync(ws.dir, { recursive: true, force: true });
    }
  } else log(`kept workspaces ${wss.docker.dir} ${wss.native.dir}`);
}

const med = (kind, key) => median(results[kind][key]);
const medBy = (kind) => Object.fromEntries(Object.keys(results[kind].byService[0] ?? {}).map((s) => [s, Math.round(median(results[kind].byService.map((b) => b[s] ?? 0)) / 1024)]));
const summary = {
  bench: 'runtimes: native vs Docker (helfy up from stopped, idle RSS, helfy down)',
  services: ['postgres', 'neo4j', 'temporal-schema', 'temporal', ...apps],
  rounds, idleS, node: process.version, setup, retries,
  docker: { upMs: results.docker.upMs.map(Math.round), downMs: results.docker.downMs.map(Math.round), rssMiB: results.docker.rssKiB.map((k) => Math.round(k / 1024)), shimsProxiesMiB: results.docker.overheadKiB.map((k) => Math.round(k / 1024)), rssByServiceMiB: medBy('docker') },
  native: { upMs: results.native.upMs.map(Math.round), downMs: results.native.downMs.map(Math.round), rssMiB: results.native.rssKiB.map((k) => Math.round(k / 1024)), rssByServiceMiB: medBy('native') },
  median: {
    upMs: { docker: Math.round(med('docker', 'upMs')), native: Math.round(med('native', 'upMs')), ratioNativeToDocker: Number((med('native', 'upMs') / med('docker', 'upMs')).toFixed(3)) },
    downMs: { docker: Math.round(med('docker', 'downMs')), native: Math.round(med('native', 'downMs')), ratioNativeToDocker: Number((med('native', 'downMs') / med('docker', 'downMs')).toFixed(3)) },
    idleRssMiB: { docker: Math.round(med('docker', 'rssKiB') / 1024), dockerShimsProxies: Math.round(med('docker', 'overheadKiB') / 1024), native: Math.round(med('native', 'rssKiB') / 1024), ratioNativeToDocker: Number((med('native', 'rssKiB') / med('docker', 'rssKiB')).toFixed(3)) },
  },
};
console.table({
  'helfy up (s)': { docker: (summary.median.upMs.docker / 1000).toFixed(2), native: (summary.median.upMs.native / 1000).toFixed(2), 'native/docker': summary.median.upMs.ratioNativeToDocker },
  [`idle RSS ${idleS} s after healthy (MiB)`]: { docker: summary.median.idleRssMiB.docker, native: summary.median.idleRssMiB.native, 'native/docker': summary.median.idleRssMiB.ratioNativeToDocker },
  'helfy down (s)': { docker: (summary.median.downMs.docker / 1000).toFixed(2), native: (summary.median.downMs.native / 1000).toFixed(2), 'native/docker': summary.median.downMs.ratioNativeToDocker },
});
const outDir = join(REPO, 'bench/results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `runtimes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
log(`written ${file}`);
