/**
 * `helfy smoke`, the core: refuse a stack that is not up (exit 4), run every check (independent
 * ones in parallel, each with its own timeout), then — always, also on Ctrl-C — remove the
 * throwaway user and its workflow; failed checks get their service's last log lines; the JUnit
 * report is written last.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import type { StackRuntime } from '../stack/runtime.js';
import { CATALOG } from '../stack/catalog.js';
import { stackStatus } from '../stack/status.js';
import { selectGroups, smokeChecks, type SmokeTrace, type SmokeUser } from './checks.js';
import { junitXml, writeJunit } from './junit.js';
import { runChecks, type CheckResult } from './scheduler.js';

export interface SmokeOptions {
  groups?: readonly string[];
  timeoutMs: number;
  browser: boolean;
  junitFile?: string;
  chromiumPath?: string;
  /** Lines of the service's log attached to a failure. */
  logLines?: number;
}

export interface SmokeCleanup {
  email: string;
  usersRemoved: number;
  auditRowsRemoved: number;
  workflowsDeleted: string[];
  /** Why the cleanup could not complete (the email to remove by hand is above). */
  error?: string;
}

export interface SmokeResult {
  project: string;
  ok: boolean;
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
  /** The slowest single check (the benchmark compares durationMs with it). */
  slowestMs: number;
  checks: CheckResult[];
  cleanup: SmokeCleanup;
  junit?: string;
  interrupted?: boolean;
}

export function throwawayUser(now = new Date()): SmokeUser {
  const id = randomBytes(6).toString('hex');
  return {
    email: `smoke-${id}@helfy.test`,
    // Never printed; only this run knows it, and the user is removed at the end.
    password: randomBytes(18).toString('base64url'),
    displayName: `Smoke ${id}`,
    weightKg: (600 + randomInt(0, 300)) / 10,
    day: now.toISOString().slice(0, 10),
    pointTime: new Date(Math.max(Date.parse(now.toISOString().slice(0, 10)), now.getTime() - 60_000)).toISOString(),
  };
}

/** How long a cut-off API request may still run on the server (scrypt on a loaded machine). */
const CUT_OFF_GRACE_MS = 5000;

async function cleanup(cfg: HelfyConfig, user: SmokeUser, trace: SmokeTrace): Promise<SmokeCleanup> {
  const out: SmokeCleanup = { email: user.email, usersRemoved: 0, auditRowsRemoved: 0, workflowsDeleted: [] };
  const { deleteWorkflowExecution, removeUserByEmail } = await import('../db/smoke.js');
  const errors: string[] = [];
  // The workflow first: a running one could otherwise still write the user's summary row.
  for (const id of trace.workflowIds) {
    try {
      if (await deleteWorkflowExecution(cfg, id)) out.workflowsDeleted.push(id);
    } catch (e) {
      errors.push(`Temporal: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    const r = await removeUserByEmail(cfg, user.email);
    out.usersRemoved = r.users;
    out.auditRowsRemoved = r.auditRows;
  } catch (e) {
    errors.push(`PostgreSQL: ${(e as Error).message.split('\n')[0]}`);
  }
  // A request the server was still working on when it was cut off (a log-in under scrypt, a
  // registration) can write its rows after the removal above: remove again once it has finished.
  if (trace.cutOff) {
    await new Promise((r) => setTimeout(r, CUT_OFF_GRACE_MS));
    try {
      const r = await removeUserByEmail(cfg, user.email);
      out.usersRemoved += r.users;
      out.auditRowsRemoved += r.auditRows;
    } catch (e) {
      errors.push(`PostgreSQL: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (errors.length) out.error = errors.join('; ');
  return out;
}

/** The `cleanup` case of a run whose cleanup did not complete (JUnit testcase, --json check), else undefined. */
export function cleanupFailure(clean: SmokeCleanup, durationMs: number): CheckResult | undefined {
  if (!clean.error) return undefined;
  return {
    id: 'cleanup.user', group: 'cleanup', name: 'the throwaway user and its workflows are removed', status: 'failed', durationMs,
    message: `${clean.error} (hint: remove the user ${clean.email} by hand)`,
  };
}

export async function smokeStack(ctx: Context, cfg: HelfyConfig, rt: StackRuntime, o: SmokeOptions): Promise<SmokeResult> {
  const t0 = performance.now();
  // Started now: the modules the cleanup needs (the Temporal client takes ~0.5 s of CPU to load).
  const warm = import('../db/smoke.js').then((m) => m.warmUp()).catch(() => undefined);
  const list = await rt.containers();
  if (!list.some((c) => c.state === 'running')) {
    throw new HelfyError('STACK_NOT_RUNNING', `stack ${rt.project} is not running`, { hint: 'Start it with `helfy up` (or run the whole pipeline with `helfy ci`).' });
  }
  const user = throwawayUser();
  const trace: SmokeTrace = { workflowIds: new Set() };
  // The health checks read `helfy status`'s result (same logic, same live probes), which runs
  // alongside the other checks instead of before them.
  // Its live probes get (almost) the check's own timeout instead of status's 5 s: they share the
  // machine with every other check of this run.
  const status = stackStatus(rt, cfg, { probeTimeoutMs: Math.max(1000, o.timeoutMs - 1000) });
  status.catch(() => undefined);
  const present = new Set(list.map((c) => c.service));
  const services = CATALOG.filter((d) => !d.profile || present.has(d.name)).map((d) => d.name);
  let defs = smokeChecks({ cfg, rt, services, status, user, trace, timeoutMs: o.timeoutMs, browser: o.browser, chromiumPath: o.chromiumPath ?? ctx.env.HELFY_CHROMIUM ?? '/usr/bin/chromium' });
  if (o.groups?.length) defs = selectGroups(defs, o.groups);
  // The checks that use the throwaway user: once they have all ended, the cleanup starts, beside
  // the checks still running (the finally below waits for it, or starts it after an interruption).
  const byId = new Map(defs.map((d) => [d.id, d]));
  const usesUser = (id: string): boolean => id === 'api.register' || (byId.get(id)?.needs ?? []).some(usesUser);
  const userChecks = new Set(defs.filter((d) => usesUser(d.id)).map((d) => d.id));
  let cleaning: Promise<SmokeCleanup> | undefined;
  let cleanupMs = 0;
  const startCleanup = () => (cleaning ??= warm.then(async () => {
    const c0 = performance.now();
    const r = await cleanup(cfg, user, trace);
    cleanupMs = Math.round(performance.now() - c0);
    return r;
  }));
  let checks: CheckResult[] = [];
  let clean: SmokeCleanup | undefined;
  try {
    checks = await runChecks(defs, {
      signal: ctx.signal,
      onResult: (r) => {
        const line = `${r.group}: ${r.name}${r.message ? ` — ${r.message}` : ''} (${r.durationMs} ms)`;
        if (r.status === 'passed') ctx.log.success(line);
        else if (r.status === 'skipped') ctx.log.info(`skipped ${line}`);
        else ctx.log.error(line);
        userChecks.delete(r.id);
        if (!userChecks.size && !ctx.signal.aborted) void startCleanup().catch(() => undefined);
      },
    });
  } finally {
    clean = await startCleanup();
    if (clean.error) ctx.log.warn(`smoke cleanup incomplete (${clean.error}); remove the user ${user.email} by hand`);
    else ctx.log.debug(`removed ${user.email} (${clean.usersRemoved} user, ${clean.auditRowsRemoved} audit rows) and ${clean.workflowsDeleted.length} workflow(s)`);
  }
  // Failed checks: the service's last log lines, read after the checks (they explain the failure).
  const containers = checks.some((c) => c.status === 'failed' && c.service) ? await rt.containers().catch(() => []) : [];
  await Promise.all(checks.filter((c) => c.status === 'failed' && c.service).map(async (c) => {
    const ct = containers.find((x) => x.service === c.service);
    if (!ct) {
      c.logs = [`(no container for ${c.service})`];
      return;
    }
    c.logs = (await rt.logs(ct.id, { tail: o.logLines ?? 20 }).catch(() => [])).map((l) => l.text);
  }));
  // A cleanup that left the throwaway user behind fails the run (exit 1), as a case of its own.
  const cleanupCase = cleanupFailure(clean, cleanupMs);
  if (cleanupCase) checks.push(cleanupCase);
  const durationMs = Math.round(performance.now() - t0);
  const failed = checks.filter((c) => c.status === 'failed').length;
  const result: SmokeResult = {
    project: rt.project,
    ok: failed === 0 && !ctx.signal.aborted,
    passed: checks.filter((c) => c.status === 'passed').length,
    failed,
    skipped: checks.filter((c) => c.status === 'skipped').length,
    durationMs,
    slowestMs: Math.max(0, ...checks.map((c) => c.durationMs)),
    checks,
    cleanup: clean,
    ...(ctx.signal.aborted ? { interrupted: true } : {}),
  };
  if (o.junitFile) {
    writeJunit(o.junitFile, junitXml(checks, { durationMs }));
    result.junit = o.junitFile;
  }
  return result;
}
