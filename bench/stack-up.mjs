#!/usr/bin/env node
// Benchmark: warm `helfy up` (containers stopped, volumes present) against `<compose> up -d`
// followed by a plain health-wait loop on the same compose file, alternating in one run.
// Target: median(helfy) / median(compose + loop) <= 1.1.
//
//   node bench/stack-up.mjs [--rounds 3] [--keep]
// Needs a Docker engine and the images (stand-ins: infra/docker/images.sh). `npm run build` first.
import { execa } from 'execa';
import { arg, flag, helfyInternals, median, workspace } from './stack-common.mjs';

const rounds = Number(arg('rounds', '3'));
const ws = await workspace(`benchup${Date.now().toString(36)}`);
const { probeTemporal, runProbe, CATALOG } = await helfyInternals();
const log = (m) => process.stderr.write(`${m}\n`);

log(`compose: ${ws.cmd.argv.join(' ')} ${ws.cmd.version}; cold up first (creates volumes, builds api/web unless their images exist)…`);
const cold = await ws.helfy(['up', '--timeout', '300s', '--json']);
if (cold.exitCode !== 0) throw new Error(`cold up failed:\n${cold.stderr}`);
const coldJson = JSON.parse(cold.stdout);
log(`cold up: ${(cold.ms / 1000).toFixed(1)}s${coldJson.built ? ` (of which building ${coldJson.built.images.join(', ')}: ${(coldJson.built.durationMs / 1000).toFixed(1)}s)` : ' (images cached)'}`);

const SERVICES = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'];
const apiDef = CATALOG.find((d) => d.name === 'api');

/** The baseline: compose up -d, then poll docker inspect every 500 ms until everything is healthy. */
async function composeUpAndWait() {
  const t0 = performance.now();
  const up = await ws.compose(['up', '-d', ...SERVICES]);
  if (up.exitCode !== 0) throw new Error(`compose up failed:\n${up.stderr}`);
  for (;;) {
    const ids = (await ws.compose(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
    const st = await execa('docker', ['inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}', ...ids], { reject: false });
    const rows = Object.fromEntries(st.stdout.split('\n').filter(Boolean).map((l) => { const [s, state, health, code] = l.split(' '); return [s, { state, health, code }]; }));
    let ok = SERVICES.every((s) => {
      const r = rows[s];
      if (!r) return false;
      if (s === 'temporal-schema') return r.state === 'exited' && r.code === '0';
      if (s === 'temporal') return r.state === 'running';
      return r.state === 'running' && r.health === 'healthy';
    });
    // Same definition of healthy as helfy: Temporal's gRPC health must be SERVING, the API's
    // /health/ready must answer 200.
    if (ok) ok = (await probeTemporal(ws.cfg, 2000)).ok;
    if (ok) ok = (await runProbe(apiDef, ws.cfg, 2000)).ok;
    if (ok) return performance.now() - t0;
    if (performance.now() - t0 > 300_000) throw new Error('baseline: not healthy within 300 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function helfyUp() {
  const r = await ws.helfy(['up', '--timeout', '300s']);
  if (r.exitCode !== 0) throw new Error(`helfy up failed:\n${r.stderr}`);
  return r.ms;
}

async function stopAll() {
  const r = await ws.compose(['stop']);
  if (r.exitCode !== 0) throw new Error(`compose stop failed:\n${r.stderr}`);
}

const helfyTimes = [];
const baseTimes = [];
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['helfy', 'compose'] : ['compose', 'helfy'];
  for (const which of order) {
    await stopAll();
    const ms = which === 'helfy' ? await helfyUp() : await composeUpAndWait();
    (which === 'helfy' ? helfyTimes : baseTimes).push(ms);
    log(`round ${i + 1} ${which.padEnd(7)} ${(ms / 1000).toFixed(2)}s`);
  }
}
const ratio = median(helfyTimes) / median(baseTimes);
const result = {
  bench: 'stack-up (warm: containers stopped, volumes present)',
  coldUpMs: Math.round(cold.ms),
  coldBuildMs: coldJson.built?.durationMs ?? 0,
  compose: `${ws.cmd.argv.join(' ')} ${ws.cmd.version}`,
  rounds,
  helfyMs: helfyTimes.map(Math.round),
  composePlusWaitMs: baseTimes.map(Math.round),
  medianHelfyMs: Math.round(median(helfyTimes)),
  medianComposePlusWaitMs: Math.round(median(baseTimes)),
  ratio: Number(ratio.toFixed(3)),
  target: 1.1,
  pass: ratio <= 1.1,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!flag('keep')) await ws.cleanup();
else log(`kept workspace ${ws.dir}`);
process.exitCode = result.pass ? 0 : 1;
