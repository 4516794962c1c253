/**
 * docs/architecture.md stays true to the code: its import graph is what dependency-cruiser draws
 * now, its rule table names every rule of .dependency-cruiser.cjs, and README's layout section
 * points at it.
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8');

describe('docs/architecture.md', () => {
  it('its import graph is the one dependency-cruiser draws from src/ now', async () => {
    const { renderGraph, withGraph } = (await import(join(REPO, 'scripts', 'architecture-graph.mjs'))) as { renderGraph(): string; withGraph(t: string, g: string): string };
    const graph = renderGraph();
    expect(graph).toMatch(/^```mermaid\nflowchart LR\n/);
    expect(graph).toContain('["backup"]');
    expect(withGraph(doc, graph)).toBe(doc);
  });

  it('names every rule of .dependency-cruiser.cjs in its table, and no other', () => {
    const rules = (createRequire(import.meta.url)(join(REPO, '.dependency-cruiser.cjs')) as { forbidden: { name: string }[] }).forbidden.map((r) => r.name);
    expect(rules.length).toBeGreaterThanOrEqual(9);
    const table = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(table).toEqual(rules);
  });

  it('the README links to it, and it places every folder of src/', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/architecture.md)');
    const folders = readdirSync(join(REPO, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `src/${d.name}/`);
    expect(folders.length).toBeGreaterThan(10);
    for (const f of [...folders, 'src/runtime/native/', 'src/runtime/docker/']) expect(doc, `docs/architecture.md does not place ${f}`).toContain(f);
  });
});
