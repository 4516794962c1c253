/**
 * `helfy backup list` and `helfy backup prune`: what is in the backup folder of this project, and
 * deleting what the keep rules (prune.ts) do not keep plus the folders of interrupted backups.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { parseKeep, planPrune, type PruneDecision } from './prune.js';
import { openBackupSession } from './session.js';
import { scanBackups } from './store.js';

export interface ListRow {
  id: string;
  createdAt: string;
  bytes: number;
  stores: string[];
  consistent: boolean;
  verified: 'yes' | 'failed' | 'no';
  verifiedAt?: string;
}

export interface ListResult {
  dir: string;
  backups: ListRow[];
  /** Folders left by interrupted backups (not restorable; `backup prune` removes the stale ones). */
  incomplete: { id: string; stale: boolean }[];
  damaged: { id: string; reason: string }[];
  /** Backups of other projects in the same folder (a shared HELFY_BACKUP_DIR): restorable by id. */
  others: { id: string; project: string; createdAt: string }[];
}

/** The backups of this project (folders only: no recovery, which needs the stack and may start services). */
export async function listBackups(ctx: Context): Promise<ListResult> {
  const { cfg, root } = await openBackupSession(ctx, { recover: false });
  const { backups, partials, damaged, others } = await scanBackups(root, cfg.projectName);
  return {
    dir: root,
    others: others.map((b) => ({ id: b.id, project: b.manifest.project, createdAt: b.manifest.createdAt })),
    backups: backups.map((b) => ({
      id: b.id, createdAt: b.manifest.createdAt, bytes: b.bytes, stores: b.manifest.stores, consistent: b.manifest.consistent,
      verified: b.verified ? (b.verified.ok ? 'yes' : 'failed') : 'no', ...(b.verified ? { verifiedAt: b.verified.at } : {}),
    })),
    incomplete: partials.map((p) => ({ id: p.id, stale: p.stale })),
    damaged,
  };
}

export interface PruneResult {
  dryRun: boolean;
  decisions: PruneDecision[];
  removed: string[];
  removedPartials: string[];
}

export interface PruneOptions {
  keepLast?: string;
  keepDaily?: string;
  keepWeekly?: string;
  dryRun?: boolean;
}

/** Deletes what the keep rules do not keep (validated before anything is opened); --dry-run only reads. */
export async function pruneBackups(ctx: Context, opts: PruneOptions): Promise<PruneResult> {
  const rules = { keepLast: parseKeep(opts.keepLast, '--keep-last'), keepDaily: parseKeep(opts.keepDaily, '--keep-daily'), keepWeekly: parseKeep(opts.keepWeekly, '--keep-weekly') };
  // Validate the rules before touching the engine.
  planPrune([], rules);
  const dryRun = Boolean(opts.dryRun);
  // --dry-run only reads folders (no recovery, no lock); a real prune is refused while a
  // backup or restore of this project holds the lock (it may be reading the folder prune deletes).
  const { cfg, root, release } = await openBackupSession(ctx, dryRun ? { recover: false } : { recover: true, lock: 'prune' });
  try {
    // Only this project's backups and interrupted folders: others in a shared HELFY_BACKUP_DIR are not ours to delete.
    const { backups, partials } = await scanBackups(root, cfg.projectName);
    const decisions = planPrune(backups.map((b) => ({ id: b.id, createdAt: new Date(b.manifest.createdAt), verified: Boolean(b.verified?.ok) })), rules);
    const removed: string[] = [];
    const removedPartials: string[] = [];
    if (!dryRun) {
      for (const d of decisions.filter((x) => !x.keep)) {
        await rm(join(root, d.id), { recursive: true, force: true });
        removed.push(d.id);
      }
    }
    for (const p of partials.filter((x) => x.stale)) {
      if (!dryRun) await rm(p.dir, { recursive: true, force: true });
      removedPartials.push(`${p.id}.partial`);
    }
    return { dryRun, decisions, removed, removedPartials };
  } finally {
    await release();
  }
}
