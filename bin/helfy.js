#!/usr/bin/env node
// Tiny launcher: the only place that calls process.exit.
import module from 'node:module';
import { readFileSync } from 'node:fs';

// Node >= 22.1 caches compiled code between runs; older Node simply skips this.
module.enableCompileCache?.();

const argv = process.argv.slice(2);
const version = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Fast path: no need to load the command framework to print a version.
  process.stdout.write(`${version()}\n`);
} else {
  const { main, defaultIO } = await import('../dist/main.js');
  const code = await main(argv, defaultIO(version()));
  // Let stdout/stderr drain before exiting (they may be pipes).
  const flush = (s) => new Promise((r) => (s.writableLength ? s.once('drain', r) : r()));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
