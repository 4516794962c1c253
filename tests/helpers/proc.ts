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

/** The start time of a process (clock ticks since boot, /proc/<pid>/stat field 22). */
export function startTicks(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Process groups a test started (by their leaders' pids), each recorded with its leader's start
 * time. `killAll()` is a safety net that SIGKILLs what is left of them, but never a group whose
 * id now belongs to another process: once every member of a group is gone its id can be handed
 * out again, and then a live leader with another start time is someone else's (another test
 * file's, when files run side by side).
 */
export class GroupSet extends Set<number> {
  readonly #starts = new Map<number, string | undefined>();

  override add(pgid: number): this {
    if (!this.#starts.has(pgid)) this.#starts.set(pgid, startTicks(pgid));
    return super.add(pgid);
  }

  killAll(): void {
    for (const g of this) {
      const now = startTicks(g);
      if (now !== undefined && now !== this.#starts.get(g)) continue;
      for (const p of groupPids(g)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}
