#!/usr/bin/env node
// Whole-process wall time of helfy's quick commands against a bare `node -e 0`, measured in
// alternation in one run so machine noise hits every variant alike. Prints medians and ratios.
// Usage: node bench/startup.mjs [rounds]   (build first: npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 30);
const bin = resolve(import.meta.dirname, '../bin/helfy.js');
const ws = mkdtempSync(join(tmpdir(), 'helfy-bench-'));
const env = { ...process.env, NO_COLOR: '1' };
spawnSync(process.execPath, [bin, 'init', '--yes', '--cwd', ws], { env, stdio: 'ignore' });

const variants = [
  { name: 'node -e 0 (baseline)', argv: ['-e', '0'] },
  { name: 'helfy --version', argv: [bin, '--version'], target: 1.3 },
  { name: 'helfy --help', argv: [bin, '--help'], target: 1.5 },
  { name: 'helfy doctor --json', argv: [bin, 'doctor', '--json', '--cwd', ws] },
];
const samples = variants.map(() => []);
for (let r = 0; r < rounds + 2; r++) {
  variants.forEach((v, i) => {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, v.argv, { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (res.error) throw res.error;
    if (r >= 2) samples[i].push(ms); // two warm-up rounds
  });
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const base = median(samples[0]);
const rows = variants.map((v, i) => {
  const med = median(samples[i]);
  const ratio = med / base;
  return { variant: v.name, median_ms: med.toFixed(1), ratio: ratio.toFixed(2), target: v.target ? `≤ ${v.target}×` : '', ok: v.target ? (ratio <= v.target ? 'yes' : 'NO') : '' };
});
console.log(`startup benchmark: ${rounds} alternating rounds, node ${process.version}`);
console.table(rows);
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
