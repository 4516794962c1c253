// Build: dist/server.js (API), dist/worker.js (worker), dist/workflow-bundle.js (workflows bundled
// once here, so the worker does not run webpack at start). Dependencies stay external: at run time
// node_modules (npm ci --omit=dev) and dist/ are all there is.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// HELFY_API_OUTDIR: tests build a private copy (a folder outside the template, beside a link to its
// node_modules, so nothing appears in the template while other tests hash or copy it).
const dist = process.env.HELFY_API_OUTDIR ? resolve(root, process.env.HELFY_API_OUTDIR) : join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const t0 = performance.now();
await build({
  absWorkingDir: root,
  entryPoints: { server: 'src/server.ts', worker: 'src/worker.ts' },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
const t1 = performance.now();
const { code } = await bundleWorkflowCode({
  workflowsPath: join(root, 'src/temporal/workflows.ts'),
  logger: { trace() {}, debug() {}, info() {}, warn: (m) => console.warn(m), error: (m) => console.error(m), log() {} },
});
writeFileSync(join(dist, 'workflow-bundle.js'), code);
const t2 = performance.now();
console.error(`built dist/server.js, dist/worker.js in ${Math.round(t1 - t0)} ms; dist/workflow-bundle.js in ${Math.round(t2 - t1)} ms`);
