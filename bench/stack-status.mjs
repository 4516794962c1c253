#!/usr/bin/env node
// Benchmark: `helfy status --json` on a healthy stack. Target: its total <= 1.2 x its slowest
// single probe, both measured in the same run (the probes run in parallel; nothing else may add
// much). Also reported: the process wall time and each probe run alone in a fresh process.
//
//   node bench/stack-status.mjs [--runs 10] [--keep]
import { execa } from 'execa';
import { join } from 'node:path';
import { arg, flag, helfyInternals, median, REPO, workspace } from './stack-common.mjs';

const runs = Number(arg('runs', '10'));
await helfyInternals();
const ws = await workspace(`benchst${Date.now().toString(36)}`);
const log = (m) => process.stderr.write(`${m}\n`);
const up = await ws.helfy(['up', '--timeout', '300s']);
if (up.exitCode !== 0) throw new Error(`up failed:\n${up.stderr}`);
log(`stack up in ${(up.ms / 1000).toFixed(1)}s; warming up status…`);
// Warm-up: the first Bolt query after a JVM start is slow and is not what this measures.
for (let i = 0; i < 2; i++) await ws.helfy(['status', '--json']);

const samples = [];
for (let i = 0; i < runs; i++) {
  const r = await ws.helfy(['status', '--json']);
  const doc = JSON.parse(r.stdout);
  if (r.exitCode !== 0 || !doc.healthy) throw new Error(`status not healthy (exit ${r.exitCode}):\n${r.stdout}`);
  const probes = doc.services.filter((s) => s.probe).map((s) => ({ name: s.name, ms: s.probe.durationMs }));
  const slowest = probes.reduce((a, b) => (b.ms > a.ms ? b : a));
  samples.push({ wallMs: r.ms, totalMs: doc.durationMs, slowest: slowest.name, slowestMs: slowest.ms, ratio: doc.durationMs / slowest.ms });
  log(`run ${i + 1}: total ${doc.durationMs} ms, slowest probe ${slowest.name} ${slowest.ms} ms, process wall ${Math.round(r.ms)} ms`);
}

// Each probe alone, in a fresh process (includes loading its driver).
const alone = {};
for (const name of ['postgres', 'neo4j', 'temporal', 'api', 'web']) {
  const script = `
    const { loadConfig, CATALOG, runProbe } = await import(${JSON.stringify(join(REPO, 'bench/.cache/internals.mjs'))});
    const cfg = loadConfig({ cwd: ${JSON.stringify(ws.dir)}, env: process.env });
    const r = await runProbe(CATALOG.find((d) => d.name === ${JSON.stringify(name)}), cfg, 5000);
    console.log(JSON.stringify(r)); process.exit(0);`;
  const times = [];
  for (let i = 0; i < 3; i++) times.push(JSON.parse((await execa('node', ['--input-type=module', '-e', script], { env: ws.env })).stdout).durationMs);
  alone[name] = median(times);
}
const result = {
  bench: 'stack-status (helfy status --json, healthy stack)',
  runs,
  medianTotalMs: Math.round(median(samples.map((s) => s.totalMs))),
  medianSlowestProbeMs: Math.round(median(samples.map((s) => s.slowestMs))),
  medianRatio: Number(median(samples.map((s) => s.ratio)).toFixed(3)),
  medianProcessWallMs: Math.round(median(samples.map((s) => s.wallMs))),
  slowestProbes: [...new Set(samples.map((s) => s.slowest))],
  probeAloneMedianMs: alone,
  target: 1.2,
  pass: median(samples.map((s) => s.ratio)) <= 1.2,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!flag('keep')) await ws.cleanup();
else log(`kept workspace ${ws.dir}`);
process.exitCode = result.pass ? 0 : 1;
