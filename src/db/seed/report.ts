/** The report of a seed for humans (stdout), shared by `helfy seed` and `helfy up --seed`. */
import type { SeedResult } from './index.js';

const fmt = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)}s`;

/** What a seed did, as the lines `helfy seed` (and `helfy up --seed`) print on stdout. */
export function seedReport(r: SeedResult): string {
  const lines: string[] = [];
  if (r.reset) {
    const what = r.dryRun ? 'would remove' : 'removed';
    if (r.removed?.demoUsers !== undefined) lines.push(`demo: ${what} ${fmt(r.removed.demoUsers)} demo user(s) and their rows`);
    if (r.removed?.libraryNodes !== undefined) lines.push(`library: ${what} ${fmt(r.removed.libraryNodes)} seeded node(s); a developer's own nodes were left alone`);
    return lines.join('\n');
  }
  for (const p of r.library) {
    if (!('nodes' in p)) {
      lines.push(`${p.part.padEnd(9)} ${p.upToDate ? 'up to date' : 'would load'}`);
      continue;
    }
    const counts = [...Object.entries(p.nodes), ...Object.entries(p.relationships)].map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    lines.push(`${p.part.padEnd(9)} ${p.upToDate ? 'up to date' : `loaded ${fmt(p.items)} items (${fmt(Math.round(p.items / Math.max(0.001, p.ms / 1000)))}/s)`} in ${secs(p.ms)}: ${counts}`);
  }
  if (r.demo) {
    const d = r.demo;
    const by = (a: string) => d.users.filter((u) => u.action === a).length;
    const verbs = [['create', 'created'], ['regenerate', 'regenerated'], ['up-to-date', 'up to date'], ['delete', 'deleted']]
      .filter(([a]) => by(a!) > 0).map(([a, v]) => `${by(a!)} ${d.dryRun && a !== 'up-to-date' ? `to be ${v}` : v}`);
    const written = Object.values(d.rows).reduce((a, b) => a + b, 0);
    lines.push(`demo      ${verbs.join(', ') || 'no demo users'}${written ? `; wrote ${fmt(written)} rows (${fmt(d.rowsPerSecond)} rows/s)` : ''} in ${secs(r.timings.demo)}`);
    lines.push(`          ${Object.entries(d.totals).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}`);
    if (d.passwordsUpdated) lines.push(`          updated the password of ${d.passwordsUpdated} demo user(s) to HELFY_DEMO_PASSWORD`);
    if (d.users.some((u) => u.action !== 'delete')) lines.push('          log in as demo-001@helfy.test … with the password HELFY_DEMO_PASSWORD from .env');
  }
  if (r.dryRun) lines.push('dry run: nothing was changed');
  return lines.join('\n');
}
