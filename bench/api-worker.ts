/**
 * Worker start-up: `node dist/worker.js` with the prebundled workflows (dist/workflow-bundle.js)
 * against the same entry bundling the workflow source at start (HELFY_WORKFLOWS_PATH →
 * Worker.create({ workflowsPath }), webpack in the process). Measured: spawn → GET /health 200
 * (the worker RUNNING against a real Temporal), and the process's peak RSS. Alternating rounds, medians.
 * Run: (cd templates/api && npm run build) && npx tsx bench/api-worker.ts [rounds]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../tests/support/services/index.js';
import { startStack } from '../tests/api/harness.js';
import { median, spawnNode, stop, TEMPLATE } from './api-common.js';

const rounds = Number(process.argv[2] ?? 5);
const stack = await startStack({ temporal: true });

async function startOnce(bundled: boolean): Promise<{ ms: number; rssMb: number }> {
  const port = await freePort();
  const env: Record<string, string> = { ...stack.env, HEALTH_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  if (!bundled) env.HELFY_WORKFLOWS_PATH = join(TEMPLATE, 'src/temporal/workflows.ts');
  const t0 = performance.now();
  const child = spawnNode(join(TEMPLATE, 'dist/worker.js'), env);
  try {
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        if (r.status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (performance.now() - t0 > 60_000) throw new Error('worker did not become healthy');
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return { ms, rssMb: hwm ? Number(hwm[1]) / 1024 : NaN };
  } finally {
    await stop(child);
  }
}

try {
  await startOnce(true); // warm-up: the server's caches, the OS file cache
  const pre: { ms: number; rssMb: number }[] = [];
  const atStart: { ms: number; rssMb: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      pre.push(await startOnce(true));
      atStart.push(await startOnce(false));
    } else {
      atStart.push(await startOnce(false));
      pre.push(await startOnce(true));
    }
    console.error(`round ${i + 1}: prebundled ${pre.at(-1)!.ms.toFixed(0)} ms, bundling at start ${atStart.at(-1)!.ms.toFixed(0)} ms`);
  }
  const m = (xs: { ms: number; rssMb: number }[], k: 'ms' | 'rssMb') => Number(median(xs.map((x) => x[k])).toFixed(0));
  console.log(
    JSON.stringify({
      bench: 'worker start-up to RUNNING',
      rounds,
      prebundled: { ms: m(pre, 'ms'), peakRssMb: m(pre, 'rssMb') },
      bundlingAtStart: { ms: m(atStart, 'ms'), peakRssMb: m(atStart, 'rssMb') },
      speedup: Number((median(atStart.map((x) => x.ms)) / median(pre.map((x) => x.ms))).toFixed(1)),
    }),
  );
} finally {
  await stack.stop();
}
