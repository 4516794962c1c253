/**
 * A backup session: what `helfy backup` (and list / verify / prune) and `helfy restore` do first.
 * It opens the stack (src/stack/open.ts picks the runtime), takes the BackupRuntime of that
 * runtime, optionally the project's lock (src/backup/lock.ts), and recovers what a killed
 * backup, restore or restore test left behind (recovery.ts).
 */
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { recoverInterruptedRestore, recoverStale, sweepVerifyLeftovers } from './recovery.js';
import type { BackupRuntime } from './runtime.js';
import { backupRoot } from './store.js';

export interface BackupSession {
  cfg: HelfyConfig;
  root: string;
  brt: BackupRuntime;
  /** Drops the project lock (a no-op without `lock`); call it in a finally. */
  release(): Promise<void>;
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
  return { cfg, root, brt, release };
}
