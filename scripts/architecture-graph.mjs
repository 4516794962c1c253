#!/usr/bin/env node
// Redraws the folder map in docs/architecture.md from the code: dependency-cruiser's mermaid
// output, collapsed to src/<folder> (and src/runtime/<adapter>), between the two markers.
// `node scripts/architecture-graph.mjs --check` only compares (tests/architecture/docs.test.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = `${root}docs/architecture.md`;
const BEGIN = '<!-- import graph: begin (scripts/architecture-graph.mjs) -->';
const END = '<!-- import graph: end -->';

export function renderGraph() {
  const out = execFileSync(`${root}node_modules/.bin/depcruise`, [
    'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'mermaid',
    '--collapse', '^src/(runtime/[^/]+|[^/]+)', '--include-only', '^src',
  ], { cwd: root, encoding: 'utf8' });
  return '```mermaid\n' + out.trim() + '\n```';
}

export function withGraph(text, graph) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/architecture.md has no ${BEGIN} … ${END} block`);
  return `${text.slice(0, a + BEGIN.length)}\n${graph}\n${text.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(doc, 'utf8');
  const next = withGraph(text, renderGraph());
  if (process.argv.includes('--check')) {
    if (next !== text) {
      process.stderr.write('docs/architecture.md: the import graph is out of date; run node scripts/architecture-graph.mjs\n');
      process.exit(1);
    }
  } else if (next !== text) writeFileSync(doc, next);
}
