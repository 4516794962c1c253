/**
 * A backup session: what `helfy backup` (and list / verify / prune) and `helfy restore` do first.
 * It opens the stack (src/stack/open.ts picks the runtime), takes the BackupRuntime of that
 * runtime, optionally the project's lock (src/backup/lock.ts), and recovers what a killed
 * backup, restore or restore test left behind (recovery.ts).
 */
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { recoverInterruptedRestore, recoverStale, sweepVerifyLeftovers } from './recovery.js';
import { CATALOG } from '../stack/catalog.js';
import type { StackRuntime } from '../stack/runtime.js';
import type { ServiceName } from '../stack/types.js';
import type { BackupRuntime } from './runtime.js';
import { backupRoot } from './store.js';

export interface BackupSession {
  cfg: HelfyConfig;
  root: string;
  brt: BackupRuntime;
  /**
   * Waits until `services` (started again after a backup) are healthy by the catalog's own checks;
   * returns why not (the service and its state) after `timeoutMs`, or undefined when they are.
   */
  waitHealthy(services: readonly string[], o: { signal: AbortSignal; timeoutMs?: number }): Promise<string | undefined>;
  /** Drops the project lock (a no-op without `lock`); call it in a finally. */
  release(): Promise<void>;
}

/** How long a backup waits for the services it started again to be healthy before it says so. */
export const HEALTHY_AGAIN_TIMEOUT_MS = 300_000;

/** The health wait of `up` (src/stack/wait.ts) over the services a backup or restore started again. */
export async function waitHealthy(rt: StackRuntime, services: readonly string[], o: { signal: AbortSignal; timeoutMs?: number }): Promise<string | undefined> {
  const names = services.filter((s): s is ServiceName => CATALOG.some((d) => d.name === s));
  if (!names.length) return undefined;
  const { HealthWaiter } = await import('../stack/wait.js');
  const timeoutMs = o.timeoutMs ?? HEALTHY_AGAIN_TIMEOUT_MS;
  const waiter = new HealthWaiter({ services: names, runtime: rt, deadline: Date.now() + timeoutMs, signal: o.signal, probeTimeoutMs: 2000 });
  waiter.markStarted(names);
  const out = await waiter.run();
  if (out.kind === 'ready') return undefined;
  if (out.kind === 'failed' || out.kind === 'timeout') return `${out.service} is not healthy again${out.kind === 'timeout' ? ` after ${Math.round(timeoutMs / 1000)} s` : ''} (${out.health.detail}): see \`helfy status\``;
  return `the wait for ${names.join(', ')} to be healthy again ended: ${out.kind}`;
}

/**
 * `recover`: start what a killed backup of this project left stopped (needs Docker and the
 * secrets; off for `backup list` and `prune --dry-run`, which only read folders). `lock`: take the
 * project's lock first (src/backup/lock.ts) for an operation that stops services or changes data;
 * a second one is refused before anything is touched.
 */
export async function openBackupSession(ctx: Context, o: { recover: boolean; lock?: string } = { recover: true }): Promise<BackupSession> {
  const { openStack } = await import('../stack/open.js');
  const { cfg, rt } = await openStack(ctx, { requireSecrets: o.recover || Boolean(o.lock), compose: false });
  const brt = await rt.backupRuntime();
  const root = backupRoot(cfg);
  let release: () => Promise<void> = async () => {};
  if (o.lock) {
    const { acquireProjectLock } = await import('./lock.js');
    const l = await acquireProjectLock(root, cfg.projectName, o.lock);
    release = () => l.release().catch(() => undefined);
  }
  try {
    if (o.recover) {
      await recoverStale(root, brt, ctx.log, cfg.projectName);
      await recoverInterruptedRestore(root, brt, ctx.log, cfg.projectName);
      await sweepVerifyLeftovers(ctx, cfg, brt);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { cfg, root, brt, release, waitHealthy: (services, w) => waitHealthy(rt, services, w) };
}
