// Process-group checks from outside helfy: read /proc directly (not the supervisor's own proc.ts),
// so a test of the native runtime does not trust the code it tests.
import { readdirSync, readFileSync } from 'node:fs';

/** Live (non-zombie) pids of process group `pgid`, from /proc/<pid>/stat. */
export function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}
