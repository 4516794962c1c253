#!/usr/bin/env node
// Benchmark: `helfy backup` and `helfy restore` against the bare commands they wrap, same run,
// same seeded data, alternating rounds, medians.
//   backup  vs  pg_dumpall --globals-only + pg_dump -Fc x3 (inside the postgres container) +
//               neo4j stop, neo4j-admin database dump system/neo4j (one-off container), neo4j start
//   restore vs  psql globals + per database DROP/CREATE + pg_restore, neo4j stop,
//               neo4j-admin database load x2, neo4j start and Bolt answering
// Targets: backup <= 1.1 x bare (writers' downtime reported separately), restore <= 1.1 x bare.
//
//   node bench/backup.mjs [--rounds 3] [--cwd <workspace with a running, seeded stack>]
// Without --cwd a stand-in stack is brought up and seeded (--users 1 --days 7) first.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, BIN, median, workspace } from './stack-common.mjs';

const rounds = Number(arg('rounds', '3'));
const log = (m) => process.stderr.write(`${m}\n`);
const given = arg('cwd', '');
let ws;
if (given) {
  const env = { ...process.env, CI: '1', NO_COLOR: '1' };
  ws = {
    dir: given, env,
    helfy: async (args) => { const t0 = performance.now(); const r = await execa('node', [BIN, ...args], { cwd: given, env, reject: false }); return { ...r, ms: performance.now() - t0 }; },
    cleanup: async () => undefined,
  };
} else {
  ws = await workspace(`benchbk${Date.now().toString(36)}`);
  const up = await ws.helfy(['up', 'api', 'worker', '--timeout', '420s']);
  if (up.exitCode !== 0) throw new Error(`up failed:\n${up.stderr}`);
  const seed = await ws.helfy(['seed', '--users', '1', '--days', '7']);
  if (seed.exitCode !== 0) throw new Error(`seed failed:\n${seed.stderr}`);
}
const dotenv = Object.fromEntries(readFileSync(join(ws.dir, '.env'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]));
const project = JSON.parse(readFileSync(join(ws.dir, 'helfy.config.json'), 'utf8')).name;
const cid = async (service) => String((await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`])).stdout).trim();
const pgId = await cid('postgres');
const n4Id = await cid('neo4j');
const n4Image = String((await execa('docker', ['inspect', '-f', '{{.Image}}', n4Id])).stdout).trim();
const pgEnv = { ...process.env, PGPASSWORD: dotenv.HELFY_POSTGRES_PASSWORD, PGUSER: 'postgres' };
const DBS = ['helfy_app', 'helfy_temporal', 'helfy_temporal_visibility'];
const N4 = ['system', 'neo4j'];

const sh = (cmd) => execa('bash', ['-c', cmd], { env: pgEnv, stdio: ['ignore', 'ignore', 'pipe'] });
async function neo4jHealthy() {
  for (let i = 0; i < 300; i++) {
    const s = String((await execa('docker', ['inspect', '-f', '{{.State.Health.Status}}', n4Id], { reject: false })).stdout).trim();
    if (s === 'healthy') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('neo4j did not become healthy');
}

async function bareBackup(dir) {
  const t0 = performance.now();
  await sh(`docker exec -e PGPASSWORD -e PGUSER ${pgId} pg_dumpall --globals-only -h 127.0.0.1 -l postgres > ${dir}/globals.sql`);
  for (const db of DBS) await sh(`docker exec -e PGPASSWORD -e PGUSER ${pgId} pg_dump -Fc --create -h 127.0.0.1 -d ${db} > ${dir}/${db}.dump`);
  await execa('docker', ['stop', '-t', '30', n4Id]);
  for (const db of N4) await sh(`docker run --rm -i --volumes-from ${n4Id} ${n4Image} neo4j-admin database dump ${db} --to-stdout > ${dir}/neo4j-${db}.dump`);
  await execa('docker', ['start', n4Id]);
  return performance.now() - t0;
}

async function bareRestore(dir) {
  const t0 = performance.now();
  await sh(`docker exec -i -e PGPASSWORD -e PGUSER ${pgId} psql -h 127.0.0.1 -X -q -d postgres -f - < ${dir}/globals.sql > /dev/null 2>&1 || true`);
  for (const db of DBS) {
    await sh(`docker exec -e PGPASSWORD -e PGUSER ${pgId} psql -h 127.0.0.1 -X -q -d postgres -c 'DROP DATABASE IF EXISTS ${db} WITH (FORCE)' -c 'CREATE DATABASE ${db} TEMPLATE template0'`);
    await sh(`docker exec -i -e PGPASSWORD -e PGUSER ${pgId} pg_restore -h 127.0.0.1 -d ${db} < ${dir}/${db}.dump`);
  }
  await execa('docker', ['stop', '-t', '30', n4Id]);
  for (const db of N4) await sh(`docker run --rm -i --volumes-from ${n4Id} ${n4Image} neo4j-admin database load ${db} --from-stdin --overwrite-destination=true < ${dir}/neo4j-${db}.dump`);
  await execa('docker', ['start', n4Id]);
  await neo4jHealthy();
  return performance.now() - t0;
}

const bench = { backup: [], bareBackup: [], restore: [], bareRestore: [], downtime: [] };
const scratch = mkdtempSync(join(tmpdir(), 'helfy-bench-bare-'));
let lastId;
await neo4jHealthy();
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['helfy', 'bare'] : ['bare', 'helfy'];
  for (const which of order) {
    await neo4jHealthy();
    if (which === 'helfy') {
      const r = await ws.helfy(['backup', '--json']);
      if (r.exitCode !== 0) throw new Error(`backup failed:\n${r.stderr}`);
      const doc = JSON.parse(r.stdout);
      lastId = doc.id;
      bench.backup.push(r.ms);
      bench.downtime.push(doc.writersDowntimeMs);
      log(`round ${i + 1}: helfy backup ${(r.ms / 1000).toFixed(1)}s (writers down ${(doc.writersDowntimeMs / 1000).toFixed(1)}s, ${doc.bytes} bytes)`);
    } else {
      const ms = await bareBackup(scratch);
      bench.bareBackup.push(ms);
      log(`round ${i + 1}: bare backup ${(ms / 1000).toFixed(1)}s`);
    }
  }
  for (const which of order) {
    await neo4jHealthy();
    if (which === 'helfy') {
      const r = await ws.helfy(['restore', lastId, '--yes', '--json']);
      if (r.exitCode !== 0) throw new Error(`restore failed:\n${r.stderr}`);
      bench.restore.push(r.ms);
      log(`round ${i + 1}: helfy restore ${(r.ms / 1000).toFixed(1)}s`);
    } else {
      const ms = await bareRestore(scratch);
      bench.bareRestore.push(ms);
      log(`round ${i + 1}: bare restore ${(ms / 1000).toFixed(1)}s`);
    }
  }
}
rmSync(scratch, { recursive: true, force: true });
const m = Object.fromEntries(Object.entries(bench).map(([k, v]) => [k, median(v)]));
const result = {
  rounds,
  medianMs: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)])),
  backupRatio: +(m.backup / m.bareBackup).toFixed(2),
  restoreRatio: +(m.restore / m.bareRestore).toFixed(2),
  writersDowntimeS: +(m.downtime / 1000).toFixed(1),
  targets: { backup: m.backup / m.bareBackup <= 1.1, restore: m.restore / m.bareRestore <= 1.1 },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
await ws.cleanup();
