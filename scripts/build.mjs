#!/usr/bin/env node
// Builds dist/ with esbuild: src/main.ts and everything it imports, with code splitting so each
// command's dynamic import() stays a separate chunk that loads only when that command runs.
// Pure-JS dependencies on the hot path (commander, zod, pg, neo4j-driver) are bundled: loading
// one file instead of hundreds of small modules cuts start-up time (see bench/). Dependencies
// with native or dynamic-require parts stay external and load from node_modules.
// Type checking is separate: `npm run typecheck` (tsc --noEmit), which `npm run build` runs first.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies bundled into ESM need a require() for Node built-ins.
  banner: { js: "import { createRequire as __helfyCreateRequire } from 'node:module'; const require = __helfyCreateRequire(import.meta.url);" },
  external: [
    'dockerode', 'execa', 'listr2', '@inquirer/prompts', '@temporalio/client', 'drizzle-kit', 'drizzle-orm', 'chalk',
    'pg-native', 'cpu-features', 'ssh2',
  ],
  logLevel: 'warning',
});
