#!/usr/bin/env node
// First use on a new machine, one run: the TimescaleDB build (native/timescaledb/install.sh)
// against the Temporal build (native/temporal/install.sh), each alone into an empty helfy cache;
// then the native stack's first `helfy up` on an empty helfy cache (its three first-use installs
// side by side) against a second `up` on the now warm cache.
//
// Usage: node bench/first-use.mjs [--cold-go]   (npm run build first)
//   --cold-go: the Temporal build also starts from empty Go module and build caches (a truly new
//   machine: the modules come from the Go module proxy); default: the machine's Go caches.
// Needs what a new machine of this project's kind has: Debian's PostgreSQL 15, gcc, Java 17,
// Maven, Go. Takes 10-25 minutes on 2 cores. Prints the seconds and the ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const BIN = join(REPO, 'bin/helfy.js');
const coldGo = process.argv.includes('--cold-go');
const temps = [];
const temp = (p) => {
  const d = mkdtempSync(join(tmpdir(), p));
  temps.push(d);
  return d;
};

function timed(what, cmd, args, env, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${String(r.stderr).split('\n').slice(-20).join('\n')}`);
  console.error(`${what}: ${s.toFixed(1)} s`);
  return s;
}

try {
  // 1. The two builds, each alone, each into an empty helfy cache.
  const goEnv = coldGo ? { GOMODCACHE: join(temp('helfy-bench-gomod-'), 'mod'), GOCACHE: join(temp('helfy-bench-gobuild-'), 'build') } : {};
  const tsSecs = timed('TimescaleDB build (empty cache)', 'bash', [join(REPO, 'native/timescaledb/install.sh')], { PG_BINDIR: '/usr/lib/postgresql/15/bin', HELFY_CACHE_DIR: temp('helfy-bench-cache-') });
  const temporalSecs = timed(`Temporal build (empty cache${coldGo ? ', empty Go caches' : ''})`, 'bash', [join(REPO, 'native/temporal/install.sh')], { HELFY_CACHE_DIR: temp('helfy-bench-cache-'), ...goEnv });

  // 2. The native stack's first up on an empty helfy cache, then a second up on the warm one.
  const ws = temp('helfy-bench-ws-');
  execFileSync('chmod', ['755', ws]);
  const env = { HELFY_CACHE_DIR: temp('helfy-bench-cache-'), HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent', CI: '1', NO_COLOR: '1', ...goEnv };
  timed('helfy init', process.execPath, [BIN, 'init', '--yes', '--no-apps', '--cwd', ws], env);
  const services = ['postgres', 'neo4j', 'temporal'];
  const firstUp = timed('first helfy up (empty cache: TimescaleDB, Neo4j and Temporal installed)', process.execPath, [BIN, 'up', ...services, '--cwd', ws, '--timeout', '600s'], env);
  timed('helfy down', process.execPath, [BIN, 'down', '--cwd', ws], env);
  const warmUp = timed('second helfy up (warm cache)', process.execPath, [BIN, 'up', ...services, '--cwd', ws], env);
  timed('helfy down --volumes', process.execPath, [BIN, 'down', '--volumes', '--yes', '--cwd', ws], env);

  const rows = [
    { benchmark: 'TimescaleDB build vs Temporal build (first use, each alone)', seconds: `${tsSecs.toFixed(0)} vs ${temporalSecs.toFixed(0)}`, ratio: (tsSecs / temporalSecs).toFixed(2) },
    { benchmark: 'first up (empty cache) vs up (warm cache), stores + Temporal', seconds: `${firstUp.toFixed(0)} vs ${warmUp.toFixed(0)}`, ratio: (firstUp / warmUp).toFixed(1) },
  ];
  console.log(`first-use benchmark, node ${process.version}${coldGo ? ', cold Go caches' : ''}`);
  console.table(rows);
} finally {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
}
