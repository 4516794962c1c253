/**
 * The check scheduler of `helfy smoke`, pure: every check starts as soon as the checks it needs
 * have passed (independent ones all at once), each bounded by its own timeout and the command's
 * abort signal. A check whose prerequisite did not pass is reported as skipped, naming it.
 */

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckContext {
  /** Aborted when the check's own timeout ends or the run is interrupted. */
  signal: AbortSignal;
  /** Values returned by the checks named in `needs`, by id. */
  results: ReadonlyMap<string, unknown>;
}

export interface CheckDef {
  /** Unique, e.g. `api.register`. */
  id: string;
  /** JUnit classname: health, postgres, neo4j, temporal, api, web, security. */
  group: string;
  /** Human name (JUnit testcase name). */
  name: string;
  timeoutMs: number;
  /** Ids of checks that must pass first (their return values are in ctx.results). */
  needs?: string[];
  /** The service whose last log lines explain a failure. */
  service?: string;
  /** Throws (or rejects) to fail; a SkipCheck to be skipped; returns a value for dependents. */
  run(ctx: CheckContext): Promise<unknown>;
}

export interface CheckResult {
  id: string;
  group: string;
  name: string;
  status: CheckStatus;
  /** Wall time of run() (0 for a skipped check). */
  durationMs: number;
  /** One line: why it failed or was skipped, or what it saw when it passed. */
  message?: string;
  service?: string;
  /** The service's last log lines, added by the caller on failure. */
  logs?: string[];
}

/** Thrown by a check that does not apply (e.g. the library when the stack was not seeded). */
export class SkipCheck extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SkipCheck';
  }
}

export class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeout';
  }
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}

/** Rejects when the signal aborts, with its reason. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function runOne(def: CheckDef, results: ReadonlyMap<string, unknown>, outer: AbortSignal): Promise<{ status: CheckStatus; message?: string; value?: unknown; durationMs: number }> {
  const timer = new AbortController();
  const t = setTimeout(() => timer.abort(new CheckTimeout(def.timeoutMs)), def.timeoutMs);
  const signal = AbortSignal.any([timer.signal, outer]);
  const t0 = performance.now();
  try {
    // A check that ignores its signal still ends at its timeout (its promise is left to settle).
    const value = await Promise.race([def.run({ signal, results }), aborted(signal)]);
    const message = typeof value === 'string' ? value : (value as { summary?: unknown } | undefined)?.summary;
    return { status: 'passed', value, durationMs: performance.now() - t0, ...(typeof message === 'string' ? { message } : {}) };
  } catch (e) {
    const durationMs = performance.now() - t0;
    if (e instanceof SkipCheck) return { status: 'skipped', message: e.message, durationMs };
    if (timer.signal.aborted && !outer.aborted) return { status: 'failed', message: `timed out after ${def.timeoutMs} ms`, durationMs };
    if (outer.aborted) return { status: 'failed', message: 'interrupted', durationMs };
    return { status: 'failed', message: oneLine(e), durationMs };
  } finally {
    clearTimeout(t);
  }
}

/**
 * Runs every check, each as soon as its prerequisites passed; results in definition order.
 * Unknown or cyclic `needs` are a programming error (thrown before anything runs).
 */
export async function runChecks(defs: readonly CheckDef[], opts: { signal: AbortSignal; onResult?: (r: CheckResult) => void }): Promise<CheckResult[]> {
  const byId = new Map(defs.map((d) => [d.id, d]));
  if (byId.size !== defs.length) throw new Error('duplicate check id');
  for (const d of defs) for (const n of d.needs ?? []) if (!byId.has(n)) throw new Error(`check ${d.id} needs unknown check ${n}`);
  const values = new Map<string, unknown>();
  const done = new Map<string, Promise<CheckResult>>();
  const visiting = new Set<string>();
  const start = (d: CheckDef): Promise<CheckResult> => {
    const have = done.get(d.id);
    if (have) return have;
    if (visiting.has(d.id)) throw new Error(`dependency cycle at check ${d.id}`);
    visiting.add(d.id);
    const deps = (d.needs ?? []).map((n) => start(byId.get(n)!));
    const p = (async (): Promise<CheckResult> => {
      const before = await Promise.all(deps);
      const base = { id: d.id, group: d.group, name: d.name, ...(d.service ? { service: d.service } : {}) };
      const notPassed = before.find((r) => r.status !== 'passed');
      if (notPassed) return { ...base, status: 'skipped', durationMs: 0, message: `not run: ${notPassed.id} ${notPassed.status === 'failed' ? 'failed' : 'was skipped'}` };
      if (opts.signal.aborted) return { ...base, status: 'skipped', durationMs: 0, message: 'not run: interrupted' };
      const r = await runOne(d, values, opts.signal);
      if (r.status === 'passed') values.set(d.id, r.value);
      return { ...base, status: r.status, durationMs: Math.round(r.durationMs), ...(r.message !== undefined ? { message: r.message } : {}) };
    })().then((r) => {
      opts.onResult?.(r);
      return r;
    });
    done.set(d.id, p);
    visiting.delete(d.id);
    return p;
  };
  return Promise.all(defs.map(start));
}
