#!/usr/bin/env node
// Benchmark: `helfy smoke --json` on a healthy stack. Target: its wall time (smoke's own
// durationMs: containers listed, every check, the cleanup, the log lines of failures) <= 1.3 x its
// slowest single check, both from the same run (the checks run in parallel; the throwaway user's
// chain register → write → workflow is the critical path). Medians over --runs runs.
//
//   node bench/smoke.mjs [--runs 7] [--keep] [--dir <workspace of a running stack>]
// Without --dir: a temp workspace on free ports, `helfy up api worker web`, removed at the end.
import { execa } from 'execa';
import { arg, flag, median, BIN, workspace } from './stack-common.mjs';

const runs = Number(arg('runs', '7'));
const log = (m) => process.stderr.write(`${m}\n`);
let ws;
if (arg('dir')) {
  const dir = arg('dir');
  const env = { ...process.env, NO_COLOR: '1' };
  ws = {
    dir,
    helfy: async (args) => {
      const t0 = performance.now();
      const r = await execa('node', [BIN, ...args], { cwd: dir, env, reject: false });
      return { ...r, ms: performance.now() - t0 };
    },
    cleanup: async () => {},
  };
} else {
  ws = await workspace(`benchsm${Date.now().toString(36)}`);
  const up = await ws.helfy(['up', 'api', 'worker', 'web', '--timeout', '400s']);
  if (up.exitCode !== 0) throw new Error(`up failed:\n${up.stderr}`);
  log(`stack up in ${(up.ms / 1000).toFixed(1)}s`);
}
// Warm-up: the first Bolt query and the first scrypt after a start are not what this measures.
await ws.helfy(['smoke', '--json']);

const samples = [];
for (let i = 0; i < runs; i++) {
  const r = await ws.helfy(['smoke', '--json']);
  const doc = JSON.parse(r.stdout);
  if (r.exitCode !== 0 || !doc.ok) throw new Error(`smoke failed (exit ${r.exitCode}):\n${r.stdout.slice(0, 3000)}`);
  const slowest = doc.checks.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
  samples.push({ totalMs: doc.durationMs, slowestMs: slowest.durationMs, slowest: slowest.id, ratio: doc.durationMs / slowest.durationMs, wallMs: r.ms });
  log(`run ${i + 1}: smoke ${doc.durationMs} ms, slowest check ${slowest.id} ${slowest.durationMs} ms (x${(doc.durationMs / slowest.durationMs).toFixed(2)}), process ${Math.round(r.ms)} ms`);
}
const ratio = median(samples.map((s) => s.ratio));
const result = {
  bench: 'smoke (helfy smoke --json, healthy stack: api, worker, web)',
  runs,
  medianSmokeMs: Math.round(median(samples.map((s) => s.totalMs))),
  medianSlowestCheckMs: Math.round(median(samples.map((s) => s.slowestMs))),
  medianRatio: Number(ratio.toFixed(3)),
  medianProcessWallMs: Math.round(median(samples.map((s) => s.wallMs))),
  slowestChecks: [...new Set(samples.map((s) => s.slowest))],
  target: 1.3,
  pass: ratio <= 1.3,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!flag('keep')) await ws.cleanup();
else log(`kept workspace ${ws.dir}`);
process.exitCode = result.pass ? 0 : 1;
